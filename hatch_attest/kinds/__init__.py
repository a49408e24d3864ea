"""Publisher kinds: one module per kind (the registry arrives with the kind split)."""
