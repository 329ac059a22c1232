"""Envelope encryption and master-key loading."""

from __future__ import annotations

import base64
import os

import pytest

from veilcv.errors import InputError, StoreError
from veilcv.store.crypto import BLOB_MAGIC, Envelope, MasterKey, generate_key_text, load_master_key


def test_seal_and_open_round_trip_with_fresh_data_keys() -> None:
    env = Envelope(MasterKey(os.urandom(32)))
    blob1, wrapped1 = env.seal("b1", b"secret pixels")
    blob2, wrapped2 = env.seal("b1", b"secret pixels")
    assert blob1.startswith(BLOB_MAGIC) and b"secret pixels" not in blob1
    assert blob1 != blob2 and wrapped1 != wrapped2  # a new data key and nonce every time
    assert env.open("b1", blob1, wrapped1) == b"secret pixels"


@pytest.mark.parametrize("where", ["blob", "wrapped"])
def test_any_flipped_bit_is_refused(where: str) -> None:
    env = Envelope(MasterKey(os.urandom(32)))
    blob, wrapped = env.seal("b1", b"x" * 100)
    if where == "blob":
        blob = blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:]
    else:
        wrapped = wrapped[:-3] + bytes([wrapped[-3] ^ 1]) + wrapped[-2:]
    with pytest.raises(StoreError):
        env.open("b1", blob, wrapped)


def test_blob_or_key_moved_to_another_object_does_not_open() -> None:
    env = Envelope(MasterKey(os.urandom(32)))
    blob_a, key_a = env.seal("a", b"A")
    blob_b, key_b = env.seal("b", b"B")
    with pytest.raises(StoreError):
        env.open("b", blob_a, key_a)  # blob and key both bound to "a"
    with pytest.raises(StoreError):
        env.open("a", blob_a, key_b)


def test_wrong_master_key_is_refused() -> None:
    blob, wrapped = Envelope(MasterKey(os.urandom(32))).seal("b", b"data")
    with pytest.raises(StoreError, match="does not open"):
        Envelope(MasterKey(os.urandom(32))).open("b", blob, wrapped)


def test_key_from_env_and_from_file(tmp_path) -> None:
    text = generate_key_text()
    assert load_master_key(env={"VEIL_MASTER_KEY": text}).raw == base64.b64decode(text)
    f = tmp_path / "k"
    f.write_text(text + "\n")
    f.chmod(0o600)
    assert load_master_key(f, env={}).raw == base64.b64decode(text)
    assert load_master_key(env={"VEIL_MASTER_KEY_FILE": str(f)}).key_id == load_master_key(f, env={}).key_id
    assert base64.b64decode(text).hex() not in repr(load_master_key(f, env={}))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no master key: set VEIL_MASTER_KEY"),
        (
            {"VEIL_MASTER_KEY": "not base64!!"},
            "VEIL_MASTER_KEY: expected base64 of 32 bytes, got undecodable",
        ),
        (
            {"VEIL_MASTER_KEY": base64.b64encode(b"short").decode()},
            "expected base64 of 32 bytes, got 5 bytes",
        ),
    ],
)
def test_bad_env_keys_get_one_line_errors(env: dict, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        load_master_key(env=env)
    assert "\n" not in str(info.value)


def test_key_file_readable_by_others_or_inside_the_store_is_refused(tmp_path) -> None:
    f = tmp_path / "k"
    f.write_text(generate_key_text())
    f.chmod(0o644)
    with pytest.raises(InputError, match="expected key file permissions 600, got 644"):
        load_master_key(f, env={})
    store = tmp_path / "store"
    store.mkdir()
    inside = store / "master.key"
    inside.write_text(generate_key_text())
    inside.chmod(0o600)
    with pytest.raises(InputError, match="outside the store folder"):
        load_master_key(inside, store_root=store, env={})
    with pytest.raises(InputError, match="key file not found"):
        load_master_key(tmp_path / "missing", env={})
