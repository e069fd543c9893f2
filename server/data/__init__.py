"""The database: extensions (unbound), typed models, and the snapshot kept in step."""
