"""The catalogue: plans, courses, chapters and teachers."""
