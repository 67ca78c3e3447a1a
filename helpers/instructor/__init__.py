"""What stays with the instructor: never part of a student's copy of the course.

module          runs in                       what it is
reference       nbgrader's process, tests     the solutions of every exercise (never in a
                                              grading kernel)
hidden          nbgrader's process            the hidden tests' tools (reference versions of
                                              earlier steps, copies of inputs)
judge           nbgrader's process            test cells run outside the kernel; the student's
                                              functions called in the kernel
kernel_agent    grading kernel (sent as text) the kernel's half of those calls; the data format
sandbox         instructor's shell -> bwrap   starts each grading kernel in a bubblewrap sandbox
settings        nbgrader's process            the course's nbgrader settings for a course root
                                              (nbgrader_config.py and Course apply them)
preprocessors   nbgrader's process            GradingExecute, RestoreDeletedTests,
                                              ClearHiddenTestCode, StripTestTracebacks (named
                                              in settings)
course          instructor's shell, workers   a course folder graded through nbgrader's API
grade_class     instructor's shell            autograde a whole class, one Dask task per
                                              student, on this machine or on a Dask cluster
supervise       Dask workers                  a grading process per worker, with a time limit
                                              per student, that kills all a student's grading
                                              started, kernels included, and dies with its
                                              worker
samples         instructor's shell, tests     sample submissions and their expected scores
                                              (samples.toml)
demo            instructor's shell            ``make demo``: the grading pipeline end to end
train           instructor's shell            ``make train``: train the reference network
"""
