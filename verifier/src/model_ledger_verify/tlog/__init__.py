"""The log in the formats of the transparency ecosystem (https://c2sp.org), with no Django.

- :mod:`.tiles`: tlog-tiles paths, tile shapes and entry bundles.
- :mod:`.reader`: tree hashes, roots and proofs computed from tiles fetched by any means.
- :mod:`.cosign`: tlog-cosignature/v1 (Ed25519) keys, cosignatures and witness policies.
- :mod:`.witness`: the tlog-witness add-checkpoint request, and a witness's decision on it.
- :mod:`.monitor`: following a log from its tiles, keeping every checkpoint seen per origin.
"""
