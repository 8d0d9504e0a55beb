// What Java's base64 decoders make of decorated values, for the lenient
// decoders `crates/core/src/lenient.rs` models (see lenient_decoders.py).
// Reads one item a line, `alphabet<TAB>text` (the text with `\n` and `\t`
// escaped as `\\n` and `\\t`), and prints one line an item:
// `mime<TAB>basic`, each the bytes read in padded base64 or `-` where the
// decoder throws (`.` for an alphabet these decoders do not read).
//
// Usage: java crosscheck/LenientDecoders.java FILE
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

public class LenientDecoders {
    static String read(Base64.Decoder decoder, String text) {
        try {
            return Base64.getEncoder().encodeToString(decoder.decode(text));
        } catch (IllegalArgumentException e) {
            return "-";
        }
    }

    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] item = line.split("\t", 2);
            String text = item[1].replace("\\n", "\n").replace("\\t", "\t");
            if (!item[0].equals("base64")) {
                System.out.println(".\t.");
                continue;
            }
            System.out.println(read(Base64.getMimeDecoder(), text) + "\t" + read(Base64.getDecoder(), text));
        }
    }
}
