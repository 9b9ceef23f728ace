"""Error scenarios for demos: presets by header, scoped ones and chaos by admin API."""
