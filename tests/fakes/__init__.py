"""Local servers that speak the real protocols of services the tests cannot reach."""
