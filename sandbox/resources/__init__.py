"""Stateful resources: found in a spec, their records made, stored and presented."""
