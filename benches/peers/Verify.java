// The Java peer for `cargo xtask bench --compare`.
//
// Verifies the same signed requests as the Rust reference with the JDK's
// standard library only, written the straightforward way a team would on the
// JVM: javax.crypto.Mac created and keyed per request, MessageDigest for body
// hashes, java.util.Base64 and HexFormat, a HashSet of used nonces,
// MessageDigest.isEqual to compare tags in constant time. Each scheme checks
// what the reference checks (timestamp syntax and window, key, body hash,
// tag, nonce), so the two do the same work.
//
// It covers the seed schemes whose verification the JDK can do alone, and
// the seed profiles that describe them: `partner` needs a JSON parser, which
// the JDK lacks, and the public profiles are measured against Python and
// Node only.
//
// The JIT is warmed up first: rounds over every request for WARMUP seconds
// (two unless given; the tests, which check answers and not speed, give 0),
// not counted, so that the measured rounds run compiled code.
//
// Usage: javac -d DIR benches/peers/Verify.java && java -cp DIR Verify WORKLOAD.json [SECONDS [WARMUP]]
// (JDK 17). Prints one JSON line: peer, scheme, body_bytes, requests,
// accepted, per_second. `java -cp DIR Verify --schemes` lists the schemes.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class Verify {
    static final class Req {
        String method;
        String path;
        String query;
        Map<String, String> h = new HashMap<>();
        byte[] body;
    }

    static final class Workload {
        String scheme;
        long nowMs;
        String endpoint;
        Map<String, byte[]> keys = new HashMap<>();
    }

    interface Verifier {
        boolean verify(Req r, Workload w, Set<String> nonces) throws Exception;
    }

    static boolean plainInt(String t) {
        if (t == null || t.isEmpty() || t.length() > 19) return false;
        for (int i = 0; i < t.length(); i++) {
            if (t.charAt(i) < '0' || t.charAt(i) > '9') return false;
        }
        return true;
    }

    static boolean within(long ts, long now, long past, long future) {
        return now - ts <= past && ts - now <= future;
    }

    static byte[] hmac(String algorithm, byte[] key, byte[]... parts) throws Exception {
        Mac mac = Mac.getInstance(algorithm);
        mac.init(new SecretKeySpec(key, algorithm));
        for (byte[] part : parts) mac.update(part);
        return mac.doFinal();
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static boolean sameTag(String expected, String received) {
        return received != null && MessageDigest.isEqual(utf8(expected), utf8(received));
    }

    static boolean verifyA2a(Req r, Workload w, Set<String> nonces) throws Exception {
        // Seed 002's verifier: headers, window, body hash, canonical string, tag.
        String keyId = r.h.get("x-api-key-id"), ts = r.h.get("x-timestamp");
        String nonce = r.h.get("x-nonce"), signature = r.h.get("x-signature");
        if (keyId == null || keyId.isEmpty() || nonce == null || nonce.isEmpty()) return false;
        if (signature == null || !plainInt(ts)) return false;
        if (!within(Long.parseLong(ts), w.nowMs / 1000, 300, 300)) return false;
        String bodyHash = r.h.get("x-body-hash");
        if (r.body.length > 0) {
            if (!Base64.getEncoder().encodeToString(sha256(r.body)).equals(bodyHash)) return false;
        } else if (bodyHash != null) {
            return false;
        }
        byte[] secret = w.keys.get(keyId);
        if (secret == null) return false;
        String canonical = String.join("\n", r.method.toUpperCase(), r.path, ts, nonce)
                + (bodyHash != null ? "\n" + bodyHash : "");
        String expected = Base64.getEncoder().encodeToString(hmac("HmacSHA256", secret, utf8(canonical)));
        if (!sameTag(expected, signature)) return false;
        return nonces.add(keyId + "\n" + nonce);
    }

    static String formDecode(String s) {
        return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static boolean verifyAuthorization(Req r, Workload w, Set<String> nonces) throws Exception {
        String value = r.h.getOrDefault("authorization", "");
        if (!value.startsWith("Signature ")) return false;
        Map<String, String> params = new HashMap<>();
        for (String part : value.substring("Signature ".length()).split(",")) {
            int at = part.indexOf('=');
            if (at < 0) return false;
            String name = part.substring(0, at).trim();
            String quoted = part.substring(at + 1);
            if (params.containsKey(name) || quoted.length() < 2 || !quoted.startsWith("\"") || !quoted.endsWith("\"")) {
                return false;
            }
            params.put(name, quoted.substring(1, quoted.length() - 1));
        }
        String ts = params.get("timestamp"), nonce = params.get("nonce"), keyId = params.get("keyId");
        if (!plainInt(ts) || nonce == null || nonce.isEmpty() || keyId == null || keyId.isEmpty()) return false;
        if (!within(Long.parseLong(ts), w.nowMs / 1000, 300, 30)) return false;
        byte[] secret = w.keys.get(keyId);
        if (secret == null) return false;
        String algorithm = switch (params.getOrDefault("algorithm", "HMAC-SHA256")) {
            case "HMAC-SHA256" -> "HmacSHA256";
            case "HMAC-SHA512" -> "HmacSHA512";
            default -> null;
        };
        if (algorithm == null) return false;
        List<String> lines = new ArrayList<>(List.of(r.method.toUpperCase(), r.path));
        List<String> names = new ArrayList<>();
        for (String name : params.getOrDefault("headers", "").split(" ")) {
            if (!name.isEmpty()) names.add(name.toLowerCase());
        }
        names.sort(null);
        for (String name : names) lines.add(name + ":" + r.h.getOrDefault(name, ""));
        if (!r.query.isEmpty()) {
            List<String[]> pairs = new ArrayList<>();
            for (String pair : r.query.split("&")) {
                if (pair.isEmpty()) continue;
                int at = pair.indexOf('=');
                pairs.add(at < 0
                        ? new String[] {formDecode(pair), ""}
                        : new String[] {formDecode(pair.substring(0, at)), formDecode(pair.substring(at + 1))});
            }
            pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
            List<String> joined = new ArrayList<>();
            for (String[] pair : pairs) joined.add(pair[0] + "=" + pair[1]);
            lines.add(String.join("&", joined));
        }
        if (r.body.length > 0) lines.add("body-hash:" + HexFormat.of().formatHex(sha256(r.body)));
        lines.add("timestamp:" + ts);
        lines.add("nonce:" + nonce);
        String expected = HexFormat.of().formatHex(hmac(algorithm, secret, utf8(String.join("\n", lines))));
        if (!sameTag(expected, params.get("signature"))) return false;
        return nonces.add(keyId + "\n" + nonce);
    }

    static Verifier timestampDotBody(String signatureHeader, String timestampHeader, String keyHeader,
            long past, long future) {
        return (r, w, nonces) -> {
            String ts = r.h.get(timestampHeader), tag = r.h.get(signatureHeader);
            if (!plainInt(ts) || tag == null) return false;
            if (!within(Long.parseLong(ts), w.nowMs / 1000, past, future)) return false;
            byte[] secret = w.keys.get(keyHeader == null ? "default" : r.h.getOrDefault(keyHeader, ""));
            if (secret == null) return false;
            String expected = HexFormat.of().formatHex(hmac("HmacSHA256", secret, utf8(ts + "."), r.body));
            return sameTag(expected, tag);
        };
    }

    static boolean verifyQuable(Req r, Workload w, Set<String> nonces) throws Exception {
        String ts = r.h.get("x-timestamp"), signature = r.h.get("x-signature");
        if (!plainInt(ts) || signature == null) return false;
        if (!within(Long.parseLong(ts), w.nowMs / 1000, 300, 300)) return false;
        String head = String.join("|", r.method.toUpperCase(), w.endpoint, ts, "");
        String expected = Base64.getEncoder().encodeToString(hmac("HmacSHA256", w.keys.get("default"), utf8(head), r.body));
        return sameTag(expected, signature);
    }

    static final Map<String, Verifier> VERIFY = new HashMap<>();

    static {
        Verifier webhook = timestampDotBody("x-webhook-signature", "x-webhook-timestamp", null, 300, 30);
        Verifier iaJson = timestampDotBody("x-ia-signature", "x-ia-timestamp", "x-ia-key", 60, 60);
        VERIFY.put("a2a", Verify::verifyA2a);
        VERIFY.put("seed-a2a", Verify::verifyA2a);
        VERIFY.put("authorization", Verify::verifyAuthorization);
        VERIFY.put("webhook", webhook);
        VERIFY.put("seed-webhook", webhook);
        VERIFY.put("ia-json", iaJson);
        VERIFY.put("seed-ia-json", iaJson);
        VERIFY.put("quable", Verify::verifyQuable);
        VERIFY.put("seed-quable", Verify::verifyQuable);
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--schemes")) {
            System.out.println(String.join(" ", VERIFY.keySet()));
            return;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) new Json(Files.readString(Path.of(args[0]))).value();
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        double warmup = args.length > 2 ? Double.parseDouble(args[2]) : 2.0;
        Workload w = new Workload();
        w.scheme = (String) json.get("scheme");
        w.nowMs = ((Number) json.get("now_ms")).longValue();
        w.endpoint = (String) json.get("endpoint");
        byte[] secret = utf8((String) json.get("secret"));
        w.keys.put((String) json.get("key_id"), secret);
        w.keys.put("default", secret);
        Verifier verify = VERIFY.get(w.scheme);
        if (verify == null) {
            System.err.println("the Java peer has no verifier for " + w.scheme);
            System.exit(3);
        }
        byte[] body = Base64.getDecoder().decode((String) json.get("body_base64"));
        // What a web framework hands a verifier: headers in a map (lower-case
        // names), path and query apart, the body as bytes. Built before timing.
        List<Req> requests = new ArrayList<>();
        for (Object o : (List<?>) json.get("requests")) {
            Map<?, ?> m = (Map<?, ?>) o;
            Req r = new Req();
            r.method = (String) m.get("method");
            String target = (String) m.get("target");
            int q = target.indexOf('?');
            r.path = q < 0 ? target : target.substring(0, q);
            r.query = q < 0 ? "" : target.substring(q + 1);
            for (Object pair : (List<?>) m.get("headers")) {
                List<?> p = (List<?>) pair;
                r.h.put((String) p.get(0), (String) p.get(1));
            }
            r.body = body;
            requests.add(r);
        }
        round(requests, w, verify, warmup);
        double[] best = round(requests, w, verify, seconds);
        System.out.printf("{\"peer\":\"java\",\"scheme\":\"%s\",\"body_bytes\":%d,\"requests\":%d,\"accepted\":%d,\"per_second\":%.1f}%n",
                w.scheme, body.length, requests.size(), (long) best[1], best[0]);
    }

    /// Rounds over every request, each with a fresh nonce store, until the
    /// time is spent; returns the best round's rate and the fewest accepted.
    static double[] round(List<Req> requests, Workload w, Verifier verify, double seconds) throws Exception {
        double best = 0, spent = 0;
        long accepted = Long.MAX_VALUE;
        while (spent < seconds || accepted == Long.MAX_VALUE) {
            Set<String> nonces = new HashSet<>();
            long started = System.nanoTime();
            long ok = 0;
            for (Req r : requests) if (verify.verify(r, w, nonces)) ok++;
            double elapsed = (System.nanoTime() - started) / 1e9;
            spent += elapsed;
            accepted = Math.min(accepted, ok);
            best = Math.max(best, requests.size() / elapsed);
        }
        return new double[] {best, accepted};
    }

    /// Just enough JSON to read a workload file (objects, arrays, strings,
    /// numbers, literals); not timed.
    static final class Json {
        final String s;
        int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                skip();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    skip();
                    String k = string();
                    skip();
                    i++; // ':'
                    m.put(k, value());
                    skip();
                    if (s.charAt(i++) == '}') return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                skip();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    skip();
                    if (s.charAt(i++) == ']') return l;
                }
            }
            if (c == '"') return string();
            for (String word : new String[] {"true", "false", "null"}) {
                if (s.startsWith(word, i)) {
                    i += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String n = s.substring(start, i);
            return n.matches("-?[0-9]+") ? (Object) Long.valueOf(n) : (Object) Double.valueOf(n);
        }

        String string() {
            StringBuilder b = new StringBuilder();
            i++; // '"'
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }
    }
}
