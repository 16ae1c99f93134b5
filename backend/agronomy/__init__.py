"""Irrigation advice: FAO-56 reference ET, upland water balance, cold-region paddy water management."""
