"""Your own workflow as a student: get the notebooks, check your work, hand it in.

    python -m helpers.student fill   [--release release/backprop] [--into notebooks]
    python -m helpers.student update [--release release/backprop] [--into notebooks]
    python -m helpers.student lab    [--release release/backprop] [--into notebooks]
                                     [-- JUPYTERLAB OPTIONS ...]
    python -m helpers.student check  [NOTEBOOK ...] [--folder notebooks] [--timeout 60]
                                     [--release release/backprop]
    python -m helpers.student submit [--folder notebooks] [--student ID] [--out DIR]
                                     [--release release/backprop]

fill    makes ``notebooks/`` your working folder: copies each release notebook you do not have
        yet. A notebook you already have is never overwritten, only reported: up to date, your
        work in progress, or older than the release (running a notebook is no change).
update  takes a newer release: a notebook you never edited is replaced by the new one; in a
        notebook you worked in, your answer cells are kept and everything else comes from the
        new release, after a copy of your file is saved in ``notebooks/backup/``.
lab     fills ``notebooks/`` and opens JupyterLab there, set up for students: the course's
        kernel, nbgrader's Validate button with the course's settings, none of the
        instructor's pages; ``--allow-root`` when run as root, no browser start without a
        display. Options after ``--`` go to JupyterLab (e.g. ``-- --port 8890``).
check   runs your saved notebooks of the assignment (all, or the ones named: ``01_loss`` or
        ``01_loss.ipynb``) in their folder, on a copy in memory so your files stay untouched,
        and prints each test with its points, PASS or FAIL, and the error of a failure. Hidden
        tests are empty in your copy: they run when your work is graded.
submit  checks that every notebook of the assignment is there and is a valid notebook, then
        writes ``DIR/<student>_backprop_<UTC time>.zip`` in nbgrader's submission layout:
        ``<student>/backprop/<notebook>.ipynb`` and ``<student>/backprop/timestamp.txt``.

Exit status: 0 when everything is fine; 1 when a test fails, a notebook cannot be read or run,
or a request is refused (with a message saying why).

Modules, one per command, and what they share:
    __main__    main(argv=None) -> int: the command line
    fill        fill(release, into) -> [FillResult]
    update      update(release, into, now=None) -> [FillResult]
    lab         lab_command(release, into, options=()) -> (argv, environment, course root)
    check       check_notebook(path, release=None, timeout=CELL_TIMEOUT) -> NotebookCheck
    submit      submit(folder, release, student=None, out=None, now=None) -> Path
    notebooks   reading, validating and safely writing notebooks; run(), the one runner;
                StudentError: a request that cannot be carried out
    execution   how a notebook runs (cell time limit, no skipping by tag), for the check,
                the Validate button and grading alike
"""
