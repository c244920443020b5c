# PLACEHOLDER (replaced by the organizations work).
def home_account_id(user):
    return None
