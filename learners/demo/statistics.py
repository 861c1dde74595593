"""The second demo course, "Introduction to Statistics": plain data like learners.demo.content.

One small data set runs through the first module (the study minutes of ten students), so the
histogram, the exercises and the worked numbers all describe the same values:
20, 25, 25, 30, 35, 40, 40, 40, 50, 95 (sum 400, mean 40, median 37.5, mode 40,
Q1 25, Q3 40, IQR 15, upper fence 62.5, so 95 is an outlier).
"""

from learners.demo.content import (
    BlockSpec as Block,
)
from learners.demo.content import (
    ChoiceSpec,
    CourseSpec,
    ExerciseSpec,
    LessonSpec,
    ModuleSpec,
    SkillSpec,
    exercise_blocks,
    single_choices,
    text_block,
)

STUDY_MINUTES = (20, 25, 25, 30, 35, 40, 40, 40, 50, 95)
# The histogram's bins: [20, 40), [40, 60), [60, 80), [80, 100).
HISTOGRAM_BINS = (20, 40, 60, 80, 100)
STUDY_HOURS = (1, 2, 2, 3, 4, 4, 5, 6, 7, 8)
TEST_SCORES = (52, 55, 61, 60, 66, 70, 71, 75, 80, 84)

SLUG = "introduction-to-statistics"
TITLE = "Introduction to Statistics"
SUMMARY = (
    "Describe data with a few honest numbers and charts, reason about chance, and tell a "
    "relationship from a cause: the statistics every informed citizen needs."
)
DESCRIPTION = """\
Introduction to Statistics works through one small data set at a time. You will summarise data
with measures of **centre** and **spread**, spot outliers, compute simple probabilities and read
scatter plots, and learn why the way a sample is chosen matters more than its size.

It assumes the arithmetic of fractions and decimals (see *Foundations of Algebra*). You will
learn to

- tell categorical from numerical data and read histograms;
- compute the mean, median, mode, range and interquartile range, and choose between them;
- find the probability of an event, of its complement and of combined events;
- describe a correlation without mistaking it for a cause, and recognise biased samples.
"""

SKILLS: tuple[SkillSpec, ...] = (
    SkillSpec("data-types", "Types of data", "Categorical and numerical variables."),
    SkillSpec("displays", "Reading charts", "Bar charts and histograms.", ("data-types",)),
    SkillSpec("centre", "Measures of centre", "Mean, median and mode.", ("data-types",)),
    SkillSpec(
        "spread",
        "Measures of spread",
        "Range, interquartile range and standard deviation.",
        ("centre",),
    ),
    SkillSpec(
        "outliers",
        "Outliers and robustness",
        "The 1.5 IQR rule and how outliers move the mean.",
        ("centre", "spread"),
    ),
    SkillSpec("probability", "Basic probability", "Equally likely outcomes and complements."),
    SkillSpec(
        "combined-events",
        "Combining events",
        "Independent events, 'and' and 'or'.",
        ("probability",),
    ),
    SkillSpec(
        "correlation",
        "Scatter plots and correlation",
        "Direction and strength of a linear relationship; correlation is not causation.",
        ("displays", "spread"),
    ),
    SkillSpec(
        "sampling",
        "Samples and bias",
        "Populations, random samples and sources of bias.",
        ("data-types", "probability"),
    ),
)

_DATA = "20, 25, 25, 30, 35, 40, 40, 40, 50, 95"

EXERCISES: tuple[ExerciseSpec, ...] = (
    # Types of data and charts ------------------------------------------------------------------
    ExerciseSpec(
        "dt-categorical",
        ("data-types",),
        "single",
        "Categorical or numerical",
        "Which of these variables is **categorical**?",
        "A colour names a category; heights, counts and minutes are numbers you can average.",
        ("Categorical data puts each case in a group.", "Can you compute an average of it?"),
        choices=single_choices(
            "Favourite colour of each student",
            ("Height in centimetres", "A measured number: numerical."),
            ("Number of siblings", "A count: numerical."),
            ("Minutes of study per day", "A measured number: numerical."),
        ),
    ),
    ExerciseSpec(
        "dt-numerical",
        ("data-types",),
        "multiple",
        "Numerical variables",
        "Which of these variables are **numerical**? Select all that apply.",
        "Age and the number of books are quantities; a country is a category and a postcode "
        "is a label made of digits.",
        ("Ask whether adding or averaging the values makes sense.",),
        choices=(
            ChoiceSpec("Age in years", True, "A quantity: numerical."),
            ChoiceSpec("Number of books read this year", True, "A count: numerical."),
            ChoiceSpec("Country of birth", False, "A category, not a number."),
            ChoiceSpec("Postcode", False, "Digits, but a label: the mean postcode means nothing."),
        ),
    ),
    ExerciseSpec(
        "disp-histogram",
        ("displays",),
        "numeric",
        "Reading a histogram",
        "In the histogram of study minutes, how many students studied **40 minutes or more**?",
        "The bars from 40 upwards hold 4 + 0 + 1 = 5 students.",
        ("Add the heights of the bars that start at 40 or later.", "4 + 0 + 1"),
        numeric_answer=5,
    ),
    # Centre ------------------------------------------------------------------------------------
    ExerciseSpec(
        "centre-mean",
        ("centre",),
        "numeric",
        "The mean",
        f"Ten students studied {_DATA} minutes. What is the **mean**?",
        "The values add up to 400; 400 / 10 = 40 minutes.",
        ("Add all ten values.", "Divide the sum, 400, by the number of values."),
        numeric_answer=40,
    ),
    ExerciseSpec(
        "centre-median",
        ("centre",),
        "numeric",
        "The median",
        f"What is the **median** of {_DATA}?",
        "With ten sorted values the median is halfway between the 5th and 6th: "
        "(35 + 40) / 2 = 37.5.",
        ("The values are already sorted.", "Average the two middle values, 35 and 40."),
        numeric_answer=37.5,
        tolerance=0.01,
    ),
    ExerciseSpec(
        "centre-mode",
        ("centre",),
        "text",
        "Naming the measure",
        "Which measure of centre is the **most frequent value** of a data set? (one word)",
        "The mode is the value that occurs most often; in the study minutes it is 40.",
        ("It is not the mean or the median.", "It starts with the letter m and has four letters."),
        accepted_answers=("mode", "the mode"),
    ),
    ExerciseSpec(
        "centre-choose",
        ("centre",),
        "single",
        "Choosing a measure",
        "In a town of ordinary houses and a few mansions, which number best describes a "
        "**typical** house price?",
        "A few very high prices pull the mean up; the median is not moved by them.",
        ("Which measure ignores how extreme the largest values are?",),
        choices=single_choices(
            "The median price",
            ("The mean price", "The mansions pull the mean above most prices."),
            ("The highest price", "That describes one mansion, not a typical house."),
            ("The range of prices", "The range measures spread, not centre."),
        ),
    ),
    # Spread and outliers -----------------------------------------------------------------------
    ExerciseSpec(
        "spread-range",
        ("spread",),
        "numeric",
        "The range",
        f"What is the **range** of {_DATA}?",
        "Range = largest - smallest = 95 - 20 = 75.",
        ("Subtract the smallest value from the largest.",),
        numeric_answer=75,
    ),
    ExerciseSpec(
        "spread-iqr",
        ("spread",),
        "numeric",
        "Interquartile range",
        "For 2, 4, 4, 5, 7, 8, 9, 11, take Q1 and Q3 as the medians of the lower and upper "
        "halves. What is the **interquartile range** Q3 - Q1?",
        "Lower half 2, 4, 4, 5: Q1 = 4. Upper half 7, 8, 9, 11: Q3 = 8.5. IQR = 8.5 - 4 = 4.5.",
        ("Split the eight values into two halves of four.", "Q1 = 4 and Q3 = 8.5."),
        numeric_answer=4.5,
        tolerance=0.01,
    ),
    ExerciseSpec(
        "spread-sd",
        ("spread",),
        "single",
        "Comparing spread",
        "Data set A is 48, 50, 52 and data set B is 10, 50, 90. Which has the larger "
        "**standard deviation**?",
        "Both have mean 50, but B's values lie much further from it.",
        ("Compare how far the values are from their mean, 50.",),
        choices=single_choices(
            "B",
            ("A", "A's values are within 2 of the mean; B's are 40 away."),
            ("They are equal", "The means are equal, but the spreads are not."),
        ),
    ),
    ExerciseSpec(
        "outlier-fence",
        ("outliers", "spread"),
        "numeric",
        "The upper fence",
        "The study minutes have Q1 = 25 and Q3 = 40, so IQR = 15. A value above "
        "$Q_3 + 1.5 \\times \\text{IQR}$ is an outlier. What is this **upper fence**?",
        "$40 + 1.5 \\times 15 = 40 + 22.5 = 62.5$; 95 lies above it, so it is an outlier.",
        ("First compute $1.5 \\times 15$.", "Add 22.5 to Q3."),
        numeric_answer=62.5,
        tolerance=0.01,
    ),
    ExerciseSpec(
        "outlier-effect",
        ("outliers", "centre"),
        "multiple",
        "Removing an outlier",
        f"Remove the outlier 95 from {_DATA}. Which statements are true? Select all that apply.",
        "Without 95 the mean falls from 40 to 305 / 9 ≈ 33.9 while the median only moves from "
        "37.5 to 35; the mode stays 40 and the range shrinks from 75 to 30.",
        ("Recompute the mean: 305 / 9.", "The median of nine values is the 5th."),
        choices=(
            ChoiceSpec("The mean decreases", True, "From 40 to about 33.9."),
            ChoiceSpec(
                "The median changes less than the mean",
                True,
                "The median moves by 2.5, the mean by about 6.1.",
            ),
            ChoiceSpec("The mode changes", False, "40 is still the most frequent value."),
            ChoiceSpec("The range increases", False, "It shrinks from 75 to 30."),
        ),
    ),
    # Probability -------------------------------------------------------------------------------
    ExerciseSpec(
        "prob-die",
        ("probability",),
        "numeric",
        "Rolling a die",
        "A fair six-sided die is rolled. What is the probability of a number **greater than "
        "4**? Give a decimal to two places.",
        "Two of six equally likely outcomes (5 and 6): 2/6 = 1/3 ≈ 0.33.",
        ("Which outcomes are greater than 4?", "Divide the favourable outcomes by 6."),
        numeric_answer=1 / 3,
        tolerance=0.005,
    ),
    ExerciseSpec(
        "prob-complement",
        ("probability",),
        "numeric",
        "The complement",
        "The probability of rain tomorrow is 0.3. What is the probability of **no rain**?",
        "An event and its complement add up to 1: 1 - 0.3 = 0.7.",
        ("Either it rains or it does not.",),
        numeric_answer=0.7,
        tolerance=0.001,
    ),
    ExerciseSpec(
        "prob-valid",
        ("probability",),
        "single",
        "What a probability can be",
        "Which of these **cannot** be a probability?",
        "Probabilities lie between 0 (impossible) and 1 (certain); 1.2 is more than certain.",
        ("Probabilities are never below 0 or above 1.",),
        choices=single_choices(
            "1.2",
            ("0", "0 is the probability of an impossible event."),
            ("0.5", "An even chance."),
            ("1", "1 is the probability of a certain event."),
        ),
    ),
    # Combining events --------------------------------------------------------------------------
    ExerciseSpec(
        "comb-and",
        ("combined-events",),
        "numeric",
        "Two coins",
        "Two fair coins are tossed. What is the probability that **both** land heads?",
        "The tosses are independent: $0.5 \\times 0.5 = 0.25$.",
        ("Multiply the probabilities of independent events.",),
        numeric_answer=0.25,
        tolerance=0.001,
    ),
    ExerciseSpec(
        "comb-independent",
        ("combined-events", "probability"),
        "single",
        "A run of heads",
        "A fair coin has landed heads five times in a row. What is the probability of heads "
        "on the next toss?",
        "The coin has no memory: each toss is independent, so the probability stays 1/2.",
        ("Does the coin know what happened before?",),
        choices=single_choices(
            "1/2",
            ("Less than 1/2", "That is the gambler's fallacy: tails is not 'due'."),
            ("More than 1/2", "A fair coin does not get 'hot'."),
        ),
    ),
    ExerciseSpec(
        "comb-or",
        ("combined-events",),
        "numeric",
        "Hearts or kings",
        "One card is drawn from a standard deck of 52. What is the probability that it is a "
        "**heart or a king**? Give a decimal to two places.",
        "$P = \\frac{13 + 4 - 1}{52} = \\frac{16}{52} \\approx 0.31$: the king of hearts is "
        "counted once.",
        ("There are 13 hearts and 4 kings.", "Do not count the king of hearts twice."),
        numeric_answer=16 / 52,
        tolerance=0.005,
    ),
    # Correlation -------------------------------------------------------------------------------
    ExerciseSpec(
        "corr-direction",
        ("correlation",),
        "single",
        "Reading a scatter plot",
        "In the scatter plot of study hours and test scores, what kind of correlation do you see?",
        "The points rise from left to right: more hours go with higher scores.",
        ("Do the points go up or down from left to right?",),
        choices=single_choices(
            "Positive",
            ("Negative", "Negative would mean higher hours go with lower scores."),
            ("None", "The points follow a clear upward trend."),
        ),
    ),
    ExerciseSpec(
        "corr-strength",
        ("correlation",),
        "single",
        "Strength of a correlation",
        "Which correlation coefficient $r$ shows the **strongest** linear relationship?",
        "Strength is the size of $r$, whatever its sign: $|-0.9| = 0.9$ is the largest.",
        ("Ignore the sign and compare the sizes.",),
        choices=single_choices(
            "-0.9",
            ("0.5", "0.5 is moderate; 0.9 in size is stronger."),
            ("0.1", "0.1 is very weak."),
            ("0", "0 means no linear relationship."),
        ),
    ),
    ExerciseSpec(
        "corr-causation",
        ("correlation",),
        "text",
        "Correlation and cause",
        "Complete the saying: correlation does not imply ______. (one word)",
        "Ice-cream sales and sunburn rise together because of sunshine, not because one "
        "causes the other.",
        ("A third factor can drive both variables.", "The word is 'causation'."),
        accepted_answers=("causation", "cause"),
    ),
    # Sampling ----------------------------------------------------------------------------------
    ExerciseSpec(
        "samp-population",
        ("sampling",),
        "text",
        "The whole group",
        "The whole group you want to learn about is called the ______. (one word)",
        "The population is everyone (or everything) of interest; a sample is the part you "
        "actually observe.",
        ("It is not the sample.", "It starts with p."),
        accepted_answers=("population", "the population"),
    ),
    ExerciseSpec(
        "samp-least-biased",
        ("sampling",),
        "single",
        "A fair sample",
        "To estimate how much the adults of a town exercise, which sample is **least biased**?",
        "Choosing at random from a list of all adults gives everyone the same chance.",
        ("Who is left out by each method?",),
        choices=single_choices(
            "Adults chosen at random from the town's electoral register",
            ("People met at the gym", "Gym-goers exercise more than most."),
            ("Volunteers replying to an online post", "Volunteers choose themselves."),
        ),
    ),
    ExerciseSpec(
        "samp-bias-sources",
        ("sampling",),
        "multiple",
        "Sources of bias",
        "Which of these are sources of **bias** in a survey? Select all that apply.",
        "Leaving groups out and steering answers bias a survey; random choice and a larger "
        "sample do not.",
        ("Bias pushes results one way, whatever the sample size.",),
        choices=(
            ChoiceSpec(
                "Phoning only during working hours",
                True,
                "People at work are left out.",
            ),
            ChoiceSpec(
                "A leading question such as 'Don't you agree that...?'",
                True,
                "The wording pushes people towards one answer.",
            ),
            ChoiceSpec(
                "Choosing names at random from a complete list",
                False,
                "Random selection from a full list avoids selection bias.",
            ),
            ChoiceSpec(
                "Asking 1,000 people instead of 100",
                False,
                "A larger random sample is more precise, not more biased.",
            ),
        ),
    ),
)

MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        "Describing data",
        "Kinds of data, charts, and a few numbers that summarise a data set honestly.",
        (
            LessonSpec(
                "Kinds of data and charts",
                ("data-types", "displays"),
                10,
                (
                    text_block(
                        "## Kinds of data\n\n**Categorical** data puts each case in a group "
                        "(a colour, a country); **numerical** data are quantities you can add "
                        "and average (a height, a count).\n\nA **histogram** shows numerical "
                        "data: each bar covers an interval of values and its height is how "
                        "many values fall in it. Here are the daily study minutes of ten "
                        f"students: {_DATA}."
                    ),
                    Block(
                        "image",
                        media="study-minutes-histogram.png",
                        alt_text="Histogram of the study minutes of ten students: 5 students "
                        "in 20 to 39 minutes, 4 in 40 to 59, none in 60 to 79 and 1 in 80 "
                        "to 99.",
                    ),
                    *exercise_blocks("dt-categorical", "dt-numerical", "disp-histogram"),
                ),
            ),
            LessonSpec(
                "Centre: mean, median and mode",
                ("centre",),
                12,
                (
                    text_block(
                        "## Measures of centre\n\nThe **mean** adds the values and divides by "
                        "how many there are:\n\n$$\\bar{x} = \\frac{1}{n}\\sum_{i=1}^{n} x_i$$"
                        "\n\nThe **median** is the middle value once the data are sorted (the "
                        "average of the two middle values when $n$ is even). The **mode** is "
                        "the most frequent value. For the study minutes:\n\n"
                        "$$\\bar{x} = \\frac{20 + 25 + 25 + 30 + 35 + 40 + 40 + 40 + 50 + 95}{10}"
                        " = \\frac{400}{10} = 40$$\n\nThe median is "
                        "$\\frac{35 + 40}{2} = 37.5$ and the mode is 40."
                    ),
                    *exercise_blocks(
                        "centre-mean", "centre-median", "centre-mode", "centre-choose"
                    ),
                ),
            ),
            LessonSpec(
                "Spread and outliers",
                ("spread", "outliers"),
                15,
                (
                    text_block(
                        "## Measures of spread\n\nThe **range** is largest minus smallest. The "
                        "**interquartile range** $\\text{IQR} = Q_3 - Q_1$ covers the middle "
                        "half of the data. The sample **standard deviation** measures the "
                        "typical distance from the mean:\n\n"
                        "$$s = \\sqrt{\\frac{1}{n-1}\\sum_{i=1}^{n} (x_i - \\bar{x})^2}$$\n\n"
                        "A value more than $1.5 \\times \\text{IQR}$ beyond a quartile is an "
                        "**outlier**. Outliers move the mean far more than the median."
                    ),
                    *exercise_blocks(
                        "spread-range",
                        "spread-iqr",
                        "spread-sd",
                        "outlier-fence",
                        "outlier-effect",
                    ),
                ),
            ),
        ),
    ),
    ModuleSpec(
        "Chance",
        "Probabilities of single and combined events.",
        (
            LessonSpec(
                "The probability of an event",
                ("probability",),
                10,
                (
                    text_block(
                        "## Probability\n\nWhen all outcomes are equally likely,\n\n"
                        "$$P(A) = \\frac{\\text{favourable outcomes}}{\\text{all outcomes}}$$"
                        "\n\nEvery probability lies between 0 and 1, and an event and its "
                        "complement add up to 1: $P(\\text{not } A) = 1 - P(A)$."
                    ),
                    *exercise_blocks("prob-die", "prob-complement", "prob-valid"),
                ),
            ),
            LessonSpec(
                "Combining events",
                ("combined-events",),
                12,
                (
                    text_block(
                        "## And, or\n\nFor **independent** events, multiply: "
                        "$P(A \\text{ and } B) = P(A)\\,P(B)$. For 'or', add and take away "
                        "what was counted twice:\n\n"
                        "$$P(A \\text{ or } B) = P(A) + P(B) - P(A \\text{ and } B)$$"
                    ),
                    *exercise_blocks("comb-and", "comb-independent", "comb-or"),
                ),
            ),
        ),
    ),
    ModuleSpec(
        "Relationships and samples",
        "Scatter plots, correlation, and where data come from.",
        (
            LessonSpec(
                "Scatter plots and correlation",
                ("correlation",),
                12,
                (
                    text_block(
                        "## Scatter plots\n\nA scatter plot shows two numerical variables, "
                        "one point per case. The **correlation coefficient** $r$ runs from "
                        "$-1$ to $1$: its sign gives the direction and its size the strength "
                        "of a linear relationship. Correlation alone never shows that one "
                        "variable causes the other."
                    ),
                    Block(
                        "image",
                        media="study-scores-scatter.png",
                        alt_text="Scatter plot of study hours (1 to 8) against test scores "
                        "(52 to 84) for ten students: the points rise from left to right "
                        "along a straight trend line.",
                    ),
                    *exercise_blocks("corr-direction", "corr-strength", "corr-causation"),
                ),
            ),
            LessonSpec(
                "Samples and bias",
                ("sampling",),
                10,
                (
                    text_block(
                        "## Samples\n\nWe rarely observe a whole **population**, so we study a "
                        "**sample**. A random sample gives every member the same chance of "
                        "being chosen; a biased method leaves some groups out or steers the "
                        "answers, and no sample size repairs that."
                    ),
                    *exercise_blocks("samp-population", "samp-least-biased", "samp-bias-sources"),
                ),
            ),
        ),
    ),
)

STATISTICS = CourseSpec(
    slug=SLUG,
    title=TITLE,
    summary=SUMMARY,
    description_md=DESCRIPTION,
    subject="statistics",
    level="intermediate",
    skills=SKILLS,
    exercises=EXERCISES,
    modules=MODULES,
)
