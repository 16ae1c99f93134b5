"""Simulators: physical models of paddies, orchards, weather and plows, and the devices that report them."""
