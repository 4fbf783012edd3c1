package io.sparkmm.engine.template;

import java.util.ArrayList;
import java.util.Collection;

/**
 * A Python tuple ({@code (a, b)} in a template, a pair of {@code dict.items()}): a list to jinjava
 * and to every operation, printed in parentheses as Python prints it.
 */
final class PyTuple extends ArrayList<Object> {

    private static final long serialVersionUID = 1L;

    PyTuple(Collection<?> items) {
        super(items);
    }
}
