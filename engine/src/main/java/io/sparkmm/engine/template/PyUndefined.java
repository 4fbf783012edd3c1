package io.sparkmm.engine.template;

import com.hubspot.jinjava.util.HasObjectTruthValue;

/**
 * jinja2's {@code Undefined}: what a missing variable, key or attribute evaluates to. It is kept
 * apart from None (Java null) because jinja2 treats them differently: None prints "None" and
 * {@code None + 'x'} raises a TypeError, while Undefined prints "" and is "not defined"; reading
 * an attribute of Undefined, calling it or doing arithmetic with it raises.
 */
final class PyUndefined implements HasObjectTruthValue {

    private final String hint;

    private PyUndefined(String hint) {
        this.hint = hint;
    }

    /** A variable that is not in the context. */
    static PyUndefined name(String name) {
        return new PyUndefined("'" + name + "' is undefined");
    }

    /** A missing attribute or key of {@code owner}. */
    static PyUndefined attribute(Object owner, Object name) {
        String what = owner == null ? "'None'" : "'" + PyTypes.name(owner) + " object'";
        return new PyUndefined(what + " has no attribute " + PyRepr.repr(name));
    }

    /** An expression that produced nothing, e.g. {@code x if false} without an else. */
    static PyUndefined value() {
        return new PyUndefined("the value is undefined");
    }

    /** jinja2's UndefinedError, raised when Undefined is used beyond printing or testing. */
    ChatTemplateException error() {
        return new ChatTemplateException(hint);
    }

    @Override
    public boolean getObjectTruthValue() {
        return false;
    }

    /** str(Undefined) is the empty string. */
    @Override
    public String toString() {
        return "";
    }
}
