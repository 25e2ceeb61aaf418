"""The catalogue's administrative pages: plans, courses, chapters, teachers' profiles."""
