"""Implementation of ``flaxen.serialization``: state dicts and the msgpack wire format.

* ``state_dict``: the type registry, ``to_state_dict`` / ``from_state_dict``;
* ``array_codec``: the msgpack extension payloads (arrays, scalars, complex);
* ``chunking``: ``MAX_CHUNK_SIZE`` and chunked giant arrays;
* ``msgpack_codec``: ``msgpack_serialize`` / ``msgpack_restore``;
* ``bytes_api``: ``to_bytes`` / ``from_bytes``;
* ``errors``: ``MsgpackDecodeError``, the one error of decoding bad bytes.
"""
