"""The production password hasher: Argon2id at OWASP's parameters, upgrading older hashes."""

from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import override_settings

from config.settings.base import PASSWORD_HASHERS

PRODUCTION_HASHERS = PASSWORD_HASHERS


def test_argon2id_comes_first_with_owasp_parameters() -> None:
    assert PRODUCTION_HASHERS[0] == "config.hashers.Argon2idPasswordHasher"
    with override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS):
        encoded = make_password("quiet-orchard-lantern-7")
        assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
        assert check_password("quiet-orchard-lantern-7", encoded)
        assert not check_password("quiet-orchard-lantern-8", encoded)


def test_a_pbkdf2_hash_still_verifies_and_is_upgraded_at_login() -> None:
    with override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS):
        old = make_password("quiet-orchard-lantern-7", hasher="pbkdf2_sha256")
        upgraded: list[str] = []
        assert check_password("quiet-orchard-lantern-7", old, setter=upgraded.append)
        assert identify_hasher(old).algorithm == "pbkdf2_sha256"
        assert len(upgraded) == 1
