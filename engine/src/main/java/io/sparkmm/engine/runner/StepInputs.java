package io.sparkmm.engine.runner;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.RequestPositions;

/** What the runner needs of a scheduled request besides its chunk: its media and its positions. */
public interface StepInputs {

    /** The request's processed item at {@code index} (the scheduler's MediaItem index). */
    MediaInput media(String requestId, int index);

    /** The request's rope positions (computed once, at admission). */
    RequestPositions positions(String requestId);
}
