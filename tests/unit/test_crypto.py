"""Access-key secrets are stored as Fernet tokens under a key derived from SECRET_KEY."""

import pytest

from portal import crypto


def test_a_sealed_secret_reads_back_and_never_shows_the_plaintext(app_ctx):
    token = crypto.seal(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCY")
    assert b"wJalrXUtnFEMI" not in token
    assert crypto.unseal(token) == b"wJalrXUtnFEMI/K7MDENG/bPxRfiCY"
    assert crypto.seal(b"same") != crypto.seal(b"same")  # a fresh IV each time


def test_an_altered_token_is_refused(app_ctx):
    token = bytearray(crypto.seal(b"secret"))
    token[20] ^= 1
    with pytest.raises(crypto.InvalidToken):
        crypto.unseal(bytes(token))


def test_another_secret_key_cannot_read_it(app_ctx, monkeypatch):
    token = crypto.seal(b"secret")
    monkeypatch.setitem(app_ctx.config, "SECRET_KEY", "another key")
    with pytest.raises(crypto.InvalidToken):
        crypto.unseal(token)
