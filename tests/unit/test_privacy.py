import hashlib
import hmac
import stat

from orchestration.lib.privacy import KEY_FILE, keyed_hash, pii_key


def test_keyed_hash_is_hmac_sha256():
    assert keyed_hash("ann@acme.io", b"secret") == hmac.new(b"secret", b"ann@acme.io", hashlib.sha256).hexdigest()
    assert keyed_hash("ann@acme.io", b"other") != keyed_hash("ann@acme.io", b"secret")


def test_the_key_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOSEDLOOP_PII_KEY", raising=False)
    first = pii_key(tmp_path)
    assert pii_key(tmp_path) == first and len(first) == 64
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


def test_the_environment_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_PII_KEY", "from-env")
    assert pii_key(tmp_path) == b"from-env"
    assert not (tmp_path / KEY_FILE).exists()
