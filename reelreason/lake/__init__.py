"""The DuckLake lake in three parts: connection and commit, builds, maintenance."""
