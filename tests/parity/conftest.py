"""The parity suite needs Django only as an oracle; without it every test skips (see harness)."""
