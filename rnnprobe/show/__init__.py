"""The faces of a result: rich views, JSON, explanations, code, help pages."""
