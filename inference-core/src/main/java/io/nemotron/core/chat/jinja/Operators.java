package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.List;

/** Python arithmetic on template values. Undefined operands fail, as with jinja2's default Undefined. */
final class Operators {
    private Operators() {}

    static Object binary(String op, Object a, Object b) {
        if (a instanceof Undefined u) {
            throw new TemplateException(u.hint());
        }
        if (b instanceof Undefined u) {
            throw new TemplateException(u.hint());
        }
        if (op.equals("+")) {
            if (a instanceof String sa && b instanceof String sb) {
                return sa + sb;
            }
            if (a instanceof List<?> la && b instanceof List<?> lb) {
                List<Object> out = new ArrayList<>(la);
                out.addAll(lb);
                return out;
            }
        }
        if (op.equals("*")) {
            if (a instanceof String s && Values.isIntegral(b)) {
                return s.repeat((int) Math.max(0, Values.toLong(b)));
            }
            if (a instanceof List<?> l && Values.isIntegral(b)) {
                List<Object> out = new ArrayList<>();
                for (long i = 0; i < Values.toLong(b); i++) {
                    out.addAll(l);
                }
                return out;
            }
        }
        if (!Values.isNumber(a) || !Values.isNumber(b)) {
            throw new TemplateException("unsupported operand type(s) for " + op + ": '" + Values.typeName(a)
                    + "' and '" + Values.typeName(b) + "'");
        }
        boolean ints = Values.isIntegral(a) && Values.isIntegral(b);
        if (ints) {
            long x = Values.toLong(a);
            long y = Values.toLong(b);
            switch (op) {
                case "+" -> { return x + y; }
                case "-" -> { return x - y; }
                case "*" -> { return x * y; }
                case "//" -> { return Math.floorDiv(x, nonZero(y)); }
                case "%" -> { return Math.floorMod(x, nonZero(y)); }
                case "**" -> {
                    if (y >= 0) {
                        long r = 1;
                        for (long i = 0; i < y; i++) {
                            r *= x;
                        }
                        return r;
                    }
                    return Math.pow(x, y);
                }
                default -> { } // "/" is true division: float
            }
        }
        double x = Values.toDouble(a);
        double y = Values.toDouble(b);
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> x / nonZero(y);
            case "//" -> Math.floor(x / nonZero(y));
            case "%" -> x - Math.floor(x / nonZero(y)) * y;
            case "**" -> Math.pow(x, y);
            default -> throw new TemplateException("unknown operator " + op);
        };
    }

    static Object negate(Object v) {
        return switch (v) {
            case Long l -> -l;
            case Boolean b -> b ? -1L : 0L;
            case Double d -> -d;
            default -> throw new TemplateException("bad operand type for unary -: '" + Values.typeName(v) + "'");
        };
    }

    private static long nonZero(long y) {
        if (y == 0) {
            throw new TemplateException("division by zero");
        }
        return y;
    }

    private static double nonZero(double y) {
        if (y == 0) {
            throw new TemplateException("division by zero");
        }
        return y;
    }
}
