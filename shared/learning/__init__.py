"""Learning: enrollments in programs, completion stamps and derived progress, quizzes scored on the server."""
