"""Data that fits a schema by construction, made realistic by Faker and the names it carries."""
