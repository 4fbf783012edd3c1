package io.sparkmm.engine.scheduler;

/** Life cycle of a request in the scheduler; a preempted request is WAITING again. */
public enum SequenceStatus {
    WAITING,
    RUNNING,
    FINISHED,
    ABORTED
}
