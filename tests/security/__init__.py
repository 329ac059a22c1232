"""Attacks from the adversarial review, kept as regression tests (each failed before its fix).

- ``test_store_attacks``: swapped and edited catalog rows, tokens (object version, canonical
  base64), special files and oversized objects given to ``store put``;
- ``test_audit_rollback``: log and anchor rolled back together, caught by the head file;
- ``test_server_attacks``: request smuggling through a GET body, unknown methods, connection bursts;
- ``test_repository_escape``: ``extends`` and manifest symlinks that leave the repository;
- ``test_ingest_attacks``: a manifest record admitting a look-alike file;
- ``test_output_targets``: ``-o`` pointing at a device, FIFO or symlink; decrypted data modes;
- ``test_media_attacks``: truncated JPEGs with an appended end marker, pictures skipped as not media;
- ``test_resource_limits``: inputs sized to exhaust time or memory;
- ``test_metadata_fuzz``: Hypothesis fuzzing of the metadata parsers, on a small fixed budget.
"""
