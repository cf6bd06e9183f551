package io.nemotron.service.rag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-labelled retrieval cases: a question, the passage that answers it, and three passages on the same topic
 * that do not. With room for two to three of the four passages, the answer must be in the context.
 */
class RagRelevanceTest {

    /** {question, answering passage, distractor, distractor, distractor} */
    static final String[][] CASES = {
        {"What temperature does water boil at on top of Mount Everest?",
            "At the summit of Everest the air pressure is about a third of sea level, so water boils at roughly 70 degrees Celsius, which makes cooking pasta there slow.",
            "Water freezes at zero degrees Celsius at standard pressure, and ice is less dense than liquid water, which is why lakes freeze from the top.",
            "Mount Everest was first summited in 1953 by Edmund Hillary and Tenzing Norgay, climbing the southeast ridge from Nepal.",
            "Pressure cookers raise the boiling point of water to about 120 degrees Celsius, shortening cooking times for beans and stews."},
        {"Who wrote the novel Nineteen Eighty-Four?",
            "George Orwell, the pen name of Eric Arthur Blair, published Nineteen Eighty-Four in 1949; it describes Oceania under the surveillance of Big Brother.",
            "Aldous Huxley wrote Brave New World in 1932, a dystopia of engineered happiness and caste-based reproduction.",
            "Ray Bradbury's Fahrenheit 451 imagines firemen who burn books; it appeared in 1953.",
            "Animal Farm is an allegorical novella about farm animals who overthrow their farmer, only for the pigs to become tyrants."},
        {"How many chambers does the human heart have?",
            "The human heart has four chambers: two atria that receive blood and two ventricles that pump it out to the lungs and the body.",
            "A fish heart has only two chambers, one atrium and one ventricle, and pumps blood in a single circuit through the gills.",
            "The average adult heart beats about 60 to 100 times per minute at rest, faster during exercise.",
            "Arteries carry blood away from the heart, veins return it, and capillaries connect the two in the tissues."},
        {"What is the capital of Australia?",
            "Canberra was purpose-built as Australia's capital as a compromise between Sydney and Melbourne, and Parliament moved there in 1927.",
            "Sydney is Australia's largest city, famous for its Opera House and Harbour Bridge.",
            "Melbourne served as the temporary seat of the federal government from 1901 until the late 1920s.",
            "Wellington is the capital of New Zealand, located at the southern tip of the North Island."},
        {"Which planet has the most moons?",
            "Saturn holds the record for confirmed moons, with well over one hundred known satellites after recent discoveries, ahead of Jupiter.",
            "Jupiter is the largest planet in the solar system, a gas giant with a Great Red Spot storm larger than Earth.",
            "Mars has two small moons, Phobos and Deimos, which are probably captured asteroids.",
            "Venus and Mercury have no moons at all, and Venus rotates backwards compared to most planets."},
        {"How do I reset a forgotten PostgreSQL password for the postgres user?",
            "To reset the postgres password, set the local method in pg_hba.conf to trust, reload the server, connect with psql and run ALTER USER postgres PASSWORD 'new', then restore md5 or scram authentication.",
            "PostgreSQL listens on port 5432 by default; change listen_addresses in postgresql.conf to accept remote connections.",
            "To back up a PostgreSQL database use pg_dump, and pg_restore to load a custom-format archive.",
            "MySQL root passwords can be reset by starting mysqld with --skip-grant-tables and updating the user table."},
        {"What causes the seasons on Earth?",
            "Seasons happen because Earth's axis is tilted about 23.5 degrees, so each hemisphere gets more direct sunlight for part of the year and less for the rest.",
            "Earth's orbit is slightly elliptical; perihelion, the closest approach to the Sun, occurs in early January.",
            "The Moon's gravity causes ocean tides, with two high tides roughly every 25 hours.",
            "Weather is driven by uneven heating of the atmosphere, producing winds, fronts and precipitation."},
        {"When did the Berlin Wall fall?",
            "The Berlin Wall fell on the night of 9 November 1989, when East German authorities opened the border crossings and crowds began tearing it down.",
            "Construction of the Berlin Wall began in August 1961 to stop emigration from East to West Berlin.",
            "German reunification was formally completed on 3 October 1990.",
            "The Berlin Airlift of 1948 to 1949 supplied West Berlin by air during the Soviet blockade."},
        {"What is the time complexity of binary search?",
            "Binary search halves the remaining interval at each step, so on a sorted array of n elements it needs O(log n) comparisons.",
            "Quicksort runs in O(n log n) time on average but degrades to O(n squared) with bad pivots.",
            "A hash table offers O(1) average lookups but needs a good hash function to avoid collisions.",
            "Linear search scans every element and takes O(n) time, but it works on unsorted data."},
        {"Why is the sky blue?",
            "Sunlight scatters off air molecules, and shorter blue wavelengths scatter much more strongly than red ones (Rayleigh scattering), so blue light reaches our eyes from every direction of the sky.",
            "Sunsets look red and orange because the light crosses more atmosphere and the blue has been scattered away.",
            "Clouds look white because their water droplets scatter all visible wavelengths about equally.",
            "The ocean appears blue partly because water absorbs red light more than blue light."},
        {"How long should I boil an egg for a soft yolk?",
            "For a soft, runny yolk lower the egg into already boiling water and cook it for about six minutes, then cool it briefly in cold water.",
            "Hard-boiled eggs need ten to twelve minutes; an ice bath afterwards makes them easier to peel.",
            "Poached eggs are cooked in barely simmering water with a splash of vinegar to help the white set.",
            "Fresh eggs sink in a bowl of water, while old eggs float because their air cell has grown."},
        {"What does the Java keyword volatile guarantee?",
            "Declaring a Java field volatile guarantees visibility: every read sees the latest write by any thread, and the write happens-before subsequent reads, though compound actions like i++ are still not atomic.",
            "The synchronized keyword in Java acquires a monitor lock so only one thread executes the block at a time.",
            "Java's final fields are safely published once the constructor finishes, provided this does not escape.",
            "AtomicInteger offers lock-free compare-and-set operations for counters shared between threads."},
        {"Which vitamin does the body produce when skin is exposed to sunlight?",
            "Ultraviolet B light striking the skin converts a cholesterol derivative into vitamin D3, which the liver and kidneys then activate.",
            "Vitamin C, found in citrus fruits, is needed to make collagen; its deficiency causes scurvy.",
            "Sunburn is caused by UV radiation damaging the DNA of skin cells, and sunscreen reduces this risk.",
            "Vitamin K is important for blood clotting and is made partly by gut bacteria."},
        {"What is the speed of light in a vacuum?",
            "In a vacuum light travels at exactly 299,792,458 metres per second, a value fixed by the definition of the metre.",
            "Sound travels through air at about 343 metres per second at room temperature.",
            "Light slows down in glass and water; the refractive index measures how much.",
            "A light-year is the distance light covers in one year, about 9.46 trillion kilometres."},
        {"Who painted the Mona Lisa?",
            "Leonardo da Vinci painted the Mona Lisa in the early sixteenth century; the portrait hangs in the Louvre in Paris.",
            "Michelangelo painted the ceiling of the Sistine Chapel between 1508 and 1512.",
            "The Louvre is the world's most visited museum and was originally a royal palace.",
            "Vincent van Gogh painted The Starry Night in 1889 while at the asylum in Saint-Remy."},
        {"How does a Kubernetes liveness probe differ from a readiness probe?",
            "When a liveness probe fails, the kubelet restarts the container; when a readiness probe fails, the pod is only removed from Service endpoints and keeps running until it is ready again.",
            "A Kubernetes Deployment manages ReplicaSets to roll out new versions of pods gradually.",
            "Resource requests tell the scheduler how much CPU and memory a pod needs; limits cap what it may use.",
            "A startup probe holds off the other probes until a slow-starting application has initialised."},
        {"What gas do plants absorb during photosynthesis?",
            "During photosynthesis plants take in carbon dioxide through the stomata in their leaves and, using light energy, combine it with water into glucose, releasing oxygen.",
            "Plants respire at night like animals do, consuming oxygen and releasing a little carbon dioxide.",
            "Chlorophyll reflects green light, which is why most leaves look green.",
            "Nitrogen is taken up by roots as nitrate or ammonium, often supplied by fertilisers."},
        {"What is the largest ocean on Earth?",
            "The Pacific is the largest and deepest ocean, covering about a third of the planet's surface and containing the Mariana Trench.",
            "The Atlantic Ocean separates the Americas from Europe and Africa and is the second largest.",
            "The Arctic Ocean is the smallest and shallowest, much of it covered by sea ice.",
            "The Dead Sea is so salty that swimmers float effortlessly on its surface."},
        {"How do you convert Celsius to Fahrenheit?",
            "Multiply the Celsius temperature by nine fifths (1.8) and add 32 to get Fahrenheit; 100 C becomes 212 F.",
            "The Kelvin scale starts at absolute zero, so add 273.15 to a Celsius temperature to get kelvins.",
            "Normal human body temperature is about 37 degrees Celsius.",
            "The Fahrenheit scale was proposed by Daniel Gabriel Fahrenheit in 1724 using a brine freezing point."},
        {"What is the half-life of carbon-14?",
            "Carbon-14 decays with a half-life of about 5,730 years, which makes it useful for dating organic material up to roughly 50,000 years old.",
            "Uranium-238 has a half-life of about 4.5 billion years and is used to date the oldest rocks.",
            "Carbon-12 is the most common stable isotope of carbon, making up about 99 percent of it.",
            "Radon is a radioactive gas that can accumulate in basements and increase lung cancer risk."},
        {"Which language is primarily spoken in Brazil?",
            "Brazilians speak Portuguese, a legacy of colonisation by Portugal; it is the country's sole official language.",
            "Spanish is the official language of most other South American countries, including Argentina and Colombia.",
            "Brazil is the largest country in South America and home to most of the Amazon rainforest.",
            "Guarani is an official language of Paraguay alongside Spanish."},
        {"What does HTTP status 429 mean?",
            "Status 429 Too Many Requests tells the client it has sent too many requests in a given time; the server may add a Retry-After header saying when to try again.",
            "HTTP 404 Not Found means the server cannot find the requested resource.",
            "A 503 Service Unavailable response signals that the server is overloaded or down for maintenance.",
            "HTTP 401 Unauthorized means authentication is required and has failed or not been provided."},
        {"How many bones are in the adult human body?",
            "An adult human skeleton usually has 206 bones; babies are born with around 300, many of which fuse as they grow.",
            "The femur, the thigh bone, is the longest and strongest bone in the body.",
            "Bones store calcium and phosphorus, and red marrow inside them produces blood cells.",
            "Sharks have skeletons made of cartilage rather than bone."},
        {"What is the boiling point of ethanol?",
            "Ethanol boils at about 78 degrees Celsius at sea level, lower than water, which is what makes distillation of spirits possible.",
            "Methanol is toxic and can cause blindness; it boils at about 65 degrees Celsius.",
            "Ethanol is produced by yeast fermenting sugars, the process behind beer and wine.",
            "Water boils at 100 degrees Celsius at standard atmospheric pressure."},
        {"Who discovered penicillin?",
            "Alexander Fleming noticed in 1928 that a Penicillium mould killed the bacteria around it on a culture plate, the discovery of penicillin.",
            "Louis Pasteur developed pasteurisation and early vaccines against rabies and anthrax.",
            "Howard Florey and Ernst Chain later purified penicillin for mass production during the Second World War.",
            "Antibiotic resistance arises when bacteria survive treatment and pass on resistance genes."},
        {"In Git, how do I undo the last commit but keep my changes?",
            "Run git reset --soft HEAD~1: it moves the branch back one commit and leaves your changes staged in the index, so nothing in the working tree is lost.",
            "git cherry-pick applies the change introduced by an existing commit from another branch onto the current one.",
            "git stash saves uncommitted changes away and restores a clean working tree.",
            "git rebase -i lets you reorder, squash or edit a series of commits."},
        {"What is the tallest mountain in Africa?",
            "Kilimanjaro in Tanzania, a dormant volcano, rises to 5,895 metres and is the highest peak on the African continent.",
            "Mount Kenya is the second-highest mountain in Africa, at about 5,199 metres.",
            "The Atlas Mountains stretch across Morocco, Algeria and Tunisia.",
            "Aconcagua in Argentina is the highest mountain in South America."},
        {"What does the ACID acronym stand for in databases?",
            "ACID stands for atomicity, consistency, isolation and durability, the guarantees a transaction gives so that concurrent work and crashes do not corrupt the data.",
            "BASE, basically available soft state eventual consistency, describes many NoSQL stores.",
            "Database indexes such as B-trees speed up lookups at the cost of slower writes.",
            "The CAP theorem says a distributed store cannot guarantee consistency, availability and partition tolerance at once."},
        {"How fast can a cheetah run?",
            "Cheetahs are the fastest land animals, reaching about 100 to 120 kilometres per hour in short sprints of a few hundred metres.",
            "Cheetahs hunt mostly during the day, unlike lions and leopards, to avoid competing with them.",
            "The peregrine falcon reaches over 300 kilometres per hour while diving on prey.",
            "A cheetah's spotted coat camouflages it in tall dry grass."},
        {"What is the main ingredient of guacamole?",
            "Guacamole is made by mashing ripe avocados with lime juice, salt, onion, chilli and coriander.",
            "Salsa verde uses tomatillos, green chillies and coriander.",
            "Hummus is a dip of chickpeas blended with tahini, lemon juice and garlic.",
            "Avocado trees are native to south-central Mexico and need a warm climate."},
        {"Which element has the chemical symbol Fe?",
            "Fe is the symbol for iron, from the Latin ferrum; iron is the most common element on Earth by mass.",
            "Gold has the symbol Au, from the Latin aurum.",
            "Lead's symbol Pb comes from the Latin plumbum, the origin of the word plumbing.",
            "Steel is an alloy of iron with a small amount of carbon."},
        {"How long is a marathon?",
            "A marathon is 42.195 kilometres, or 26.2 miles, a distance standardised after the 1908 London Olympics.",
            "A half marathon is 21.0975 kilometres and is a popular goal for new runners.",
            "The first modern Olympic marathon was held in Athens in 1896.",
            "Ultramarathons are any footraces longer than the marathon distance."},
    };

    private static TokenCounter counter;

    @BeforeAll
    static void load() {
        counter = RagTesting.llamaCounter();
    }

    static Stream<Integer> cases() {
        return java.util.stream.IntStream.range(0, CASES.length).boxed();
    }

    @ParameterizedTest(name = "case {0}")
    @MethodSource("cases")
    void answeringPassageIsAlwaysInTheContext(int index) {
        assertTrue(EmbeddingRanker.shared().warmUp(), "the bundled all-MiniLM-L6-v2 model must load in tests");
        RagContext ctx = assemble(index, EmbeddingRanker.shared());
        String[] c = CASES[index];
        assertTrue(ctx.usedIds().contains("answer"), "case " + index + " '" + c[0] + "': used " + ctx.usedIds());
        assertFalse(ctx.droppedIds().isEmpty(), "case " + index + ": a distractor must be reported dropped");
        assertTrue(ctx.dropped().stream().allMatch(d -> d.reason() == DroppedDocument.Reason.NO_ROOM));
        HashSet<String> all = new HashSet<>(ctx.usedIds());
        all.addAll(ctx.droppedIds());
        assertEquals(4, all.size());
        assertTrue(ctx.text().contains(c[1]), "the answer is rendered whole");
    }

    /** The fallback when the embedding model cannot load: BM25 over four passages is weaker, but mostly right. */
    @org.junit.jupiter.api.Test
    void bm25AloneFindsMostAnswers() {
        List<Integer> misses = new ArrayList<>();
        for (int i = 0; i < CASES.length; i++) {
            if (!assemble(i, EmbeddingRanker.disabled()).usedIds().contains("answer")) {
                misses.add(i);
            }
        }
        assertTrue(misses.size() <= CASES.length / 4, "BM25 alone missed cases " + misses);
    }

    /** The case's four passages in a per-case shuffled order, with room for two to three of them. */
    private static RagContext assemble(int index, EmbeddingRanker ranker) {
        String[] c = CASES[index];
        List<Integer> order = new ArrayList<>(List.of(1, 2, 3, 4));
        Collections.shuffle(order, new Random(index)); // the answer is not always first
        List<RagDocument> docs = new ArrayList<>();
        for (int p : order) {
            docs.add(new RagDocument(p == 1 ? "answer" : "distractor-" + p, null, c[p], null));
        }
        int[] passages = docs.stream()
                .mapToInt(d -> counter.count(ContextRenderer.header(d.id(), null) + d.text() + "\n\n"))
                .sorted().toArray();
        int fixed = counter.count(ContextRenderer.OPEN) + counter.count(ContextRenderer.CLOSE);
        int budget = fixed + passages[3] + passages[2]; // room for the two longest passages, never for all four
        RagContext ctx = new RagAssembler(counter, RagOptions.DEFAULTS, ranker).assemble(docs, c[0], budget);
        assertTrue(RagTesting.recount(ctx.text()) <= budget);
        return ctx;
    }

    @org.junit.jupiter.api.Test
    void atLeastThirtyCasesWithThreeDistractorsEach() {
        assertTrue(CASES.length >= 30);
        for (String[] c : CASES) {
            assertEquals(5, c.length, c[0]);
        }
    }
}
