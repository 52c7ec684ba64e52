"""nbgrader settings of the course (nbgrader reads this file from the course root).

The grading pipeline (``python -m autograder``) runs nbgrader on a workspace folder
(``workspace/`` by default, never committed) and loads this file there too.
"""

c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "convolution-from-scratch"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What students see in a solution cell.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every notebook runs in at most 15 s (05: 30 s) on 2 cores; these are safety nets.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
