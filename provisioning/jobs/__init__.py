"""Jobs between steps: the record and its transitions, the states and the
rules between them, the published record computed from a record and its
outputs, job ids, the job store's protocol and its two homes (a local
directory, DynamoDB), and private keys sealed until a step stores them.
Imports ``program`` (for item outputs) and the shared modules only."""
