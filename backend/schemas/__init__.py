"""Pydantic models of the API: request models (…Create, …Update) kept apart from response models (…Out)."""
