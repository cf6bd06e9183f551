package io.nemotron.core.chat.jinja;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Functions every template can call: jinja2's {@code range}, {@code namespace}, {@code dict}, and HF's two. */
final class Globals {
    private Globals() {}

    static void install(Scope scope) {
        scope.set("range", (JinjaCallable) (args, kw) -> range(args));
        scope.set("namespace", (JinjaCallable) Namespace::of);
        scope.set("dict", (JinjaCallable) (args, kw) -> Filters.dict(new Args("dict", args, kw)));
        scope.set("raise_exception", (JinjaCallable) (args, kw) -> {
            throw new RaisedException(args.isEmpty() ? "the chat template raised an exception" : Values.str(args.get(0)));
        });
        scope.set("strftime_now", (JinjaCallable) (args, kw) ->
                strftime(args.isEmpty() ? "%Y-%m-%d" : Values.str(args.get(0)), ZonedDateTime.now()));
    }

    private static List<Object> range(List<Object> args) {
        long start = 0;
        long stop;
        long step = 1;
        switch (args.size()) {
            case 1 -> stop = Values.toLong(args.get(0));
            case 2, 3 -> {
                start = Values.toLong(args.get(0));
                stop = Values.toLong(args.get(1));
                step = args.size() == 3 ? Values.toLong(args.get(2)) : 1;
            }
            default -> throw new TemplateException("range() takes 1 to 3 arguments");
        }
        if (step == 0) {
            throw new TemplateException("range() step must not be zero");
        }
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add(i);
        }
        return out;
    }

    /** The strftime directives date-stamping templates use (Llama 3.1's {@code "%d %b %Y"}), C locale. */
    static String strftime(String format, ZonedDateTime t) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                case 'j' -> "DDD";
                default -> null;
            };
            if (pattern != null) {
                out.append(DateTimeFormatter.ofPattern(pattern, Locale.ROOT).format(t));
            } else {
                out.append(d == '%' ? "%" : "%" + d);
            }
        }
        return out.toString();
    }
}
