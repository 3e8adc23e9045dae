"""Survey domain: questionnaire model, loading, targeting, scoring, aggregation, export.

Nothing here imports aiogram or the database driver, so the rules can be tested directly.
"""
