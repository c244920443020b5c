"""/accounts/<id>/quotas: each quota with what is used against it, for every member."""

import pytest

from portal.models import AccessKey, Bucket
from tests.functional.conftest import ROLES

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def org(org, dbs):
    """The every-role organization with 8 buckets (1 to 8 GB) and 5 active keys."""
    account, _people = org
    dbs.add_all(
        [
            Bucket(account_id=account.id, name=f"bucket-{i}", size_bytes=(i + 1) * 1024**3)
            for i in range(8)
        ]
        + [
            AccessKey(account_id=account.id, key_id=f"PC{i:018d}", name="k", secret_ciphertext=b"x")
            for i in range(5)
        ]
    )
    dbs.commit()
    return org


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_meters(client, login, org, role):
    account, people = org
    login(people[role])
    response = client.get(f"/accounts/{account.id}/quotas")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="quota-buckets"' in html and "8 of 10" in html
    assert "36.00 GB of 100 GB" in html  # 1 + 2 + ... + 8 GB
    # five active keys of five: the limit is reached, and it says so
    assert 'class="quota-meter is-at-limit" id="quota-access_keys"' in html
    assert 'class="quota-meter is-near-limit" id="quota-buckets"' in html


def test_fixed_number_of_queries(client, login, org, count_queries):
    account, people = org
    login(people["viewer"])
    with count_queries() as queries:
        assert client.get(f"/accounts/{account.id}/quotas").status_code == 200
    # user with their membership (the access check), usage, pending requests, history
    # page, navigation with the unread badge (tests/functional/test_quota_requests.py
    # checks it does not grow with the history)
    assert len(queries) == 5
