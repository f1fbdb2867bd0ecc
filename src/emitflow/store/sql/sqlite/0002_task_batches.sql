-- 0002: task records stored many to a row (see emitflow/store/task_batches.py).
-- A run's end stores its whole task list at once; a row per record cost more than running a
-- loop of pure tasks did. A run's records are its batches, overlaid by its rows in `tasks`
-- (written one at a time, while it runs, or later): a row wins over a batch record of the same
-- sequence. Storing a whole list deletes the run's rows and batches first.
CREATE TABLE task_batches (
    run_id         TEXT    NOT NULL,
    first_sequence INTEGER NOT NULL,
    records        TEXT    NOT NULL,
    PRIMARY KEY (run_id, first_sequence)
);
