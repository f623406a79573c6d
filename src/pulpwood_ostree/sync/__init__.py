"""OSTree sync: fetch an upstream archive repository concurrently, verify, store, version."""
