"""The floor of the stack: a bare Flask "hello", served by gunicorn exactly as the portal is
(`make bench` divides every page's requests per second by this app's)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
