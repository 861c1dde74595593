"""The demo course "Foundations of Algebra": skills, prerequisites, lessons and exercises.

Plain data, turned into rows by learners.demo.seeding through courses.services. Exercise keys
are stable strings, so tests and the simulation can refer to them.
"""

from dataclasses import dataclass, field

from learners.demo.media import EVALUATION_NARRATION, NUMBER_LINE_NARRATION, transcript_of

COURSE_SLUG = "foundations-of-algebra"
COURSE_TITLE = "Foundations of Algebra"
COURSE_SUMMARY = (
    "From integers and fractions to lines and systems of equations: the algebra every later "
    "course assumes, with a path that adapts to what you already know."
)
COURSE_DESCRIPTION = """\
Foundations of Algebra takes you from arithmetic with signed numbers to solving systems of linear
equations. Each lesson is short: an explanation, a worked example and a few exercises. The
platform tracks which **skills** you have mastered and suggests what to practise next, so you can
skip what you know and spend your time where it helps.

You will learn to

- compute with integers, fractions and powers, in the right order;
- write, evaluate and simplify expressions;
- solve linear equations and inequalities;
- read and write the equation of a line, and solve two equations at once.
"""


@dataclass(frozen=True)
class SkillSpec:
    key: str
    name: str
    description: str
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChoiceSpec:
    text: str
    is_correct: bool = False
    feedback: str = ""


@dataclass(frozen=True)
class ExerciseSpec:
    key: str
    skills: tuple[str, ...]
    kind: str
    title: str
    prompt_md: str
    explanation_md: str
    hints: tuple[str, ...]
    choices: tuple[ChoiceSpec, ...] = ()
    numeric_answer: float | None = None
    tolerance: float = 0.0
    accepted_answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlockSpec:
    kind: str  # text, video, audio, image, exercise
    body_md: str = ""
    media: str = ""  # name of a generated file in learners.demo.media
    captions: str = ""
    transcript: str = ""
    alt_text: str = ""
    exercise: str = ""


@dataclass(frozen=True)
class LessonSpec:
    title: str
    skills: tuple[str, ...]
    estimated_minutes: int
    blocks: tuple[BlockSpec, ...]


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    summary: str
    lessons: tuple[LessonSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CourseSpec:
    """One demo course: its catalogue entry, skill graph, exercises and lessons."""

    slug: str
    title: str
    summary: str
    description_md: str
    subject: str
    level: str
    skills: tuple[SkillSpec, ...]
    exercises: tuple[ExerciseSpec, ...]
    modules: tuple[ModuleSpec, ...]


SKILLS: tuple[SkillSpec, ...] = (
    SkillSpec(
        "integers", "Integer arithmetic", "Add, subtract, multiply and divide signed numbers."
    ),
    SkillSpec("fractions", "Fractions", "Simplify, add and multiply fractions.", ("integers",)),
    SkillSpec(
        "order-of-operations",
        "Order of operations",
        "Brackets, powers, multiplication and division, then addition and subtraction.",
        ("integers",),
    ),
    SkillSpec(
        "exponents",
        "Exponents and powers",
        "Powers of numbers and the product and power rules.",
        ("order-of-operations",),
    ),
    SkillSpec(
        "variables",
        "Variables and expressions",
        "Translate words into algebraic expressions.",
        ("order-of-operations",),
    ),
    SkillSpec(
        "evaluating",
        "Evaluating expressions",
        "Substitute values for variables and compute.",
        ("variables", "exponents"),
    ),
    SkillSpec(
        "like-terms",
        "Combining like terms",
        "Add terms with the same variable part.",
        ("variables",),
    ),
    SkillSpec(
        "distributive",
        "The distributive property",
        "Expand a(b + c) and factor out a common factor.",
        ("like-terms",),
    ),
    SkillSpec(
        "one-step",
        "One-step equations",
        "Undo one operation to isolate the variable.",
        ("evaluating",),
    ),
    SkillSpec(
        "two-step",
        "Two-step equations",
        "Undo addition, then multiplication, to solve ax + b = c.",
        ("one-step", "fractions"),
    ),
    SkillSpec(
        "both-sides",
        "Variables on both sides",
        "Collect the variable on one side, including after expanding brackets.",
        ("two-step", "distributive"),
    ),
    SkillSpec(
        "inequalities",
        "Linear inequalities",
        "Solve inequalities; flip the sign when multiplying by a negative number.",
        ("two-step",),
    ),
    SkillSpec(
        "coordinate-plane",
        "The coordinate plane",
        "Plot and read points (x, y) in the four quadrants.",
        ("integers",),
    ),
    SkillSpec(
        "slope",
        "Slope",
        "Rise over run between two points of a line.",
        ("coordinate-plane", "fractions"),
    ),
    SkillSpec(
        "slope-intercept",
        "Slope-intercept form",
        "Read and write lines as y = mx + b.",
        ("slope", "two-step"),
    ),
    SkillSpec(
        "systems",
        "Systems of linear equations",
        "Solve two linear equations by substitution or elimination.",
        ("slope-intercept", "both-sides"),
    ),
)


def single_choices(
    text: str, *wrong: tuple[str, str], feedback: str = "Right."
) -> tuple[ChoiceSpec, ...]:
    return (ChoiceSpec(text, True, feedback), *(ChoiceSpec(w, False, f) for w, f in wrong))


EXERCISES: tuple[ExerciseSpec, ...] = (
    # Integers -----------------------------------------------------------------------------------
    ExerciseSpec(
        "int-add",
        ("integers",),
        "numeric",
        "Adding a negative number",
        "Compute $-7 + 12$.",
        "Start at -7 and move 12 steps right: $-7 + 12 = 5$.",
        ("Picture a number line and start at -7.", "Moving right means adding."),
        numeric_answer=5,
    ),
    ExerciseSpec(
        "int-multiply",
        ("integers",),
        "single",
        "Signs of a product",
        "What is $(-4) \\times (-6)$?",
        "The product of two negative numbers is positive: $(-4)(-6) = 24$.",
        ("Count the minus signs.", "An even number of negative factors gives a positive result."),
        choices=single_choices(
            "24",
            ("-24", "Two negatives make a positive product."),
            ("-10", "That is the sum, not the product."),
            ("10", "Multiply, do not add."),
        ),
    ),
    ExerciseSpec(
        "int-subtract",
        ("integers",),
        "numeric",
        "Subtracting a negative",
        "Compute $3 - (-8)$.",
        "Subtracting a negative number adds its opposite: $3 - (-8) = 3 + 8 = 11$.",
        ("Subtracting $-8$ is the same as adding $8$.",),
        numeric_answer=11,
    ),
    # Fractions ----------------------------------------------------------------------------------
    ExerciseSpec(
        "frac-add",
        ("fractions",),
        "single",
        "Adding fractions",
        "What is $\\frac{1}{3} + \\frac{1}{4}$?",
        "Use the common denominator 12: $\\frac{4}{12} + \\frac{3}{12} = \\frac{7}{12}$.",
        ("Find a common denominator first.", "12 is a multiple of both 3 and 4."),
        choices=single_choices(
            "7/12",
            ("2/7", "Adding numerators and denominators separately does not work."),
            ("1/7", "Check the common denominator."),
            ("7/24", "The common denominator is 12, not 24."),
        ),
    ),
    ExerciseSpec(
        "frac-simplify",
        ("fractions",),
        "text",
        "Simplest form",
        "Write $\\frac{18}{24}$ in simplest form (for example `2/5`).",
        "The greatest common divisor of 18 and 24 is 6: $\\frac{18}{24} = \\frac{3}{4}$.",
        ("Find the largest number that divides both 18 and 24.", "Divide both by 6."),
        accepted_answers=("3/4",),
    ),
    ExerciseSpec(
        "frac-multiply",
        ("fractions",),
        "numeric",
        "Multiplying fractions",
        "Compute $\\frac{2}{5} \\times \\frac{3}{4}$ as a decimal.",
        "$\\frac{2 \\cdot 3}{5 \\cdot 4} = \\frac{6}{20} = 0.3$.",
        ("Multiply the numerators, then the denominators.", "6/20 as a decimal is?"),
        numeric_answer=0.3,
        tolerance=0.001,
    ),
    # Order of operations ------------------------------------------------------------------------
    ExerciseSpec(
        "ops-basic",
        ("order-of-operations",),
        "numeric",
        "Multiplication first",
        "Compute $3 + 4 \\times 5$.",
        "Multiply before adding: $3 + 20 = 23$.",
        ("Which comes first, addition or multiplication?",),
        numeric_answer=23,
    ),
    ExerciseSpec(
        "ops-brackets",
        ("order-of-operations",),
        "single",
        "Brackets change the order",
        "What is $(8 - 2) \\div 3 + 1$?",
        "Brackets first: $6 \\div 3 + 1 = 2 + 1 = 3$.",
        ("Work out the brackets first.", "Then divide, then add."),
        choices=single_choices(
            "3",
            ("1.5", "Divide before adding, but after the brackets."),
            ("7.67", "The brackets come first."),
            ("9", "Check the division."),
        ),
    ),
    ExerciseSpec(
        "ops-mixed",
        ("order-of-operations",),
        "numeric",
        "Several operations",
        "Compute $20 - 12 \\div 4 \\times 2$.",
        "Division and multiplication from left to right: $12 \\div 4 = 3$, $3 \\times 2 = 6$, "
        "then $20 - 6 = 14$.",
        ("Multiplication and division go left to right.", "12 ÷ 4 comes first."),
        numeric_answer=14,
    ),
    # Exponents ----------------------------------------------------------------------------------
    ExerciseSpec(
        "exp-power",
        ("exponents",),
        "numeric",
        "A power of two",
        "Compute $2^5$.",
        "$2^5 = 2 \\cdot 2 \\cdot 2 \\cdot 2 \\cdot 2 = 32$.",
        ("Multiply five twos together.",),
        numeric_answer=32,
    ),
    ExerciseSpec(
        "exp-product-rule",
        ("exponents",),
        "single",
        "Product rule",
        "Simplify $x^3 \\cdot x^4$.",
        "Same base: add the exponents, $x^{3+4} = x^7$.",
        ("When you multiply powers of the same base...", "...add the exponents."),
        choices=single_choices(
            "x^7",
            ("x^12", "Multiplying the exponents is the rule for a power of a power."),
            ("2x^7", "The base stays x; nothing doubles."),
            ("x^1", "Add, do not subtract."),
        ),
    ),
    ExerciseSpec(
        "exp-negative-base",
        ("exponents", "order-of-operations"),
        "multiple",
        "Signs and powers",
        "Which expressions equal $16$? Select all that apply.",
        "$(-2)^4 = 16$ and $4^2 = 16$, but $-2^4 = -(2^4) = -16$: the power binds tighter than "
        "the minus sign.",
        ("Powers are computed before a leading minus sign.", "Brackets make the base negative."),
        choices=(
            ChoiceSpec("$(-2)^4$", True, "Four negative factors give a positive result."),
            ChoiceSpec("$-2^4$", False, "This is $-(2^4) = -16$."),
            ChoiceSpec("$4^2$", True, "Yes, $4 \\cdot 4 = 16$."),
            ChoiceSpec("$2^3$", False, "$2^3 = 8$."),
        ),
    ),
    # Variables ----------------------------------------------------------------------------------
    ExerciseSpec(
        "var-translate",
        ("variables",),
        "single",
        "Words to symbols",
        "Which expression means *five less than twice a number n*?",
        "Twice a number is $2n$; five less than that is $2n - 5$.",
        ("Start with 'twice a number'.", "'Five less than' subtracts five from it."),
        choices=single_choices(
            "2n - 5",
            ("5 - 2n", "That is twice a number less than five."),
            ("2(n - 5)", "This takes five away before doubling."),
            ("n - 5 / 2", "Twice means multiply by two."),
        ),
    ),
    ExerciseSpec(
        "var-identify",
        ("variables",),
        "multiple",
        "Parts of an expression",
        "In $7x + 3y - 4$, which are **coefficients**? Select all that apply.",
        "Coefficients multiply variables: 7 (of x) and 3 (of y). -4 is a constant term.",
        ("A coefficient is the number in front of a variable.",),
        choices=(
            ChoiceSpec("7", True, "7 multiplies x."),
            ChoiceSpec("3", True, "3 multiplies y."),
            ChoiceSpec("-4", False, "-4 is a constant: no variable."),
            ChoiceSpec("x", False, "x is a variable."),
        ),
    ),
    ExerciseSpec(
        "var-word",
        ("variables",),
        "text",
        "Write an expression",
        "A ticket costs 12 dollars. Write the cost of $t$ tickets (for example `5t`).",
        "Each ticket adds 12 dollars, so $t$ tickets cost $12t$.",
        ("How much do 2 tickets cost? 3 tickets?", "Multiply the price by the number of tickets."),
        accepted_answers=("12t", "12*t", "12 t", "t*12", "12·t"),
    ),
    # Evaluating ---------------------------------------------------------------------------------
    ExerciseSpec(
        "eval-linear",
        ("evaluating",),
        "numeric",
        "Substitute a value",
        "Evaluate $3x - 7$ when $x = 4$.",
        "$3 \\cdot 4 - 7 = 12 - 7 = 5$.",
        ("Replace x with 4.", "Multiply before subtracting."),
        numeric_answer=5,
    ),
    ExerciseSpec(
        "eval-square",
        ("evaluating", "exponents"),
        "numeric",
        "A square with a negative value",
        "Evaluate $x^2 + 2x$ when $x = -3$.",
        "$(-3)^2 + 2(-3) = 9 - 6 = 3$.",
        ("Put brackets around -3 when you substitute.", "$(-3)^2 = 9$."),
        numeric_answer=3,
    ),
    ExerciseSpec(
        "eval-two-vars",
        ("evaluating",),
        "single",
        "Two variables",
        "Evaluate $2a + b^2$ for $a = 5$ and $b = 3$.",
        "$2 \\cdot 5 + 3^2 = 10 + 9 = 19$.",
        ("Substitute both values.", "Compute the power first."),
        choices=single_choices(
            "19",
            ("16", "$b^2$ is 9, not 6."),
            ("13", "Check $2a$: it is 10."),
            ("64", "Evaluate the power before adding."),
        ),
    ),
    # Like terms ---------------------------------------------------------------------------------
    ExerciseSpec(
        "like-combine",
        ("like-terms",),
        "text",
        "Combine like terms",
        "Simplify $4x + 3 - x + 5$ (write it like `ax + b`).",
        "Combine the x terms ($4x - x = 3x$) and the constants ($3 + 5 = 8$): $3x + 8$.",
        ("Group the x terms and the numbers.", "$4x - x$ is $3x$."),
        accepted_answers=("3x + 8", "3x+8", "8 + 3x"),
    ),
    ExerciseSpec(
        "like-identify",
        ("like-terms",),
        "multiple",
        "Spot the like terms",
        "Which terms are like terms with $5a^2$? Select all that apply.",
        "Like terms have the same variable raised to the same power: $-a^2$ and $\\frac{1}{2}a^2$.",
        ("Compare the variable part, not the coefficient.",),
        choices=(
            ChoiceSpec("$-a^2$", True, "Same variable part, $a^2$."),
            ChoiceSpec("$5a$", False, "$a$ is not $a^2$."),
            ChoiceSpec("$\\frac{1}{2}a^2$", True, "The coefficient does not matter."),
            ChoiceSpec("$5b^2$", False, "A different variable."),
        ),
    ),
    ExerciseSpec(
        "like-coefficient",
        ("like-terms",),
        "numeric",
        "Collect the coefficient",
        "After simplifying $6y - 2y + 7y - y$, what is the coefficient of $y$?",
        "$6 - 2 + 7 - 1 = 10$, so the sum is $10y$.",
        ("Add the coefficients: 6, -2, 7 and -1.",),
        numeric_answer=10,
    ),
    # Distributive -------------------------------------------------------------------------------
    ExerciseSpec(
        "dist-expand",
        ("distributive",),
        "single",
        "Expand brackets",
        "Expand $3(2x - 5)$.",
        "Multiply each term inside by 3: $6x - 15$.",
        ("Multiply 3 by every term in the brackets.",),
        choices=single_choices(
            "6x - 15",
            ("6x - 5", "The 3 multiplies the -5 as well."),
            ("5x - 15", "3 times 2x is 6x."),
            ("6x + 15", "3 times -5 is negative."),
        ),
    ),
    ExerciseSpec(
        "dist-negative",
        ("distributive", "like-terms"),
        "text",
        "Expand and simplify",
        "Expand and simplify $2(x + 4) - (x - 3)$ (write it like `ax + b`).",
        "$2x + 8 - x + 3 = x + 11$: the minus sign changes the sign of both terms in the second "
        "bracket.",
        ("A minus before brackets multiplies each term by -1.", "$-(x - 3) = -x + 3$."),
        accepted_answers=("x + 11", "x+11", "11 + x", "1x + 11"),
    ),
    ExerciseSpec(
        "dist-factor",
        ("distributive",),
        "numeric",
        "Factor out",
        "Write $12x + 18$ as $k(2x + 3)$. What is $k$?",
        "Both terms are multiples of 6: $12x + 18 = 6(2x + 3)$.",
        ("What number times 2x gives 12x?",),
        numeric_answer=6,
    ),
    # One-step -----------------------------------------------------------------------------------
    ExerciseSpec(
        "one-add",
        ("one-step",),
        "numeric",
        "Undo an addition",
        "Solve $x + 9 = 4$.",
        "Subtract 9 from both sides: $x = 4 - 9 = -5$.",
        ("Do the same thing to both sides.", "Subtract 9."),
        numeric_answer=-5,
    ),
    ExerciseSpec(
        "one-multiply",
        ("one-step",),
        "numeric",
        "Undo a multiplication",
        "Solve $-6x = 42$.",
        "Divide both sides by -6: $x = -7$.",
        ("Divide both sides by the coefficient of x.",),
        numeric_answer=-7,
    ),
    ExerciseSpec(
        "one-divide",
        ("one-step",),
        "single",
        "Undo a division",
        "Solve $\\frac{x}{4} = 2.5$.",
        "Multiply both sides by 4: $x = 10$.",
        ("What undoes dividing by 4?",),
        choices=single_choices(
            "x = 10",
            ("x = 0.625", "Multiply by 4 instead of dividing."),
            ("x = 6.5", "Multiply, do not add."),
            ("x = 1.6", "That divides 4 by 2.5."),
        ),
    ),
    # Two-step -----------------------------------------------------------------------------------
    ExerciseSpec(
        "two-basic",
        ("two-step",),
        "numeric",
        "Two steps",
        "Solve $3x + 5 = 20$.",
        "Subtract 5: $3x = 15$; divide by 3: $x = 5$.",
        ("First undo the +5.", "Then divide by 3."),
        numeric_answer=5,
    ),
    ExerciseSpec(
        "two-fraction",
        ("two-step", "fractions"),
        "numeric",
        "A fractional coefficient",
        "Solve $\\frac{2}{3}x - 1 = 5$.",
        "Add 1: $\\frac{2}{3}x = 6$; multiply by $\\frac{3}{2}$: $x = 9$.",
        ("Add 1 to both sides.", "Multiply by the reciprocal of 2/3."),
        numeric_answer=9,
    ),
    ExerciseSpec(
        "two-decimal",
        ("two-step",),
        "numeric",
        "A decimal answer",
        "Solve $4x - 3 = 8$. Give your answer to two decimal places.",
        "Add 3: $4x = 11$; divide by 4: $x = 2.75$.",
        ("Add 3 to both sides.", "11 ÷ 4 = ?"),
        numeric_answer=2.75,
        tolerance=0.005,
    ),
    # Variables on both sides --------------------------------------------------------------------
    ExerciseSpec(
        "both-collect",
        ("both-sides",),
        "numeric",
        "Collect x on one side",
        "Solve $5x - 4 = 2x + 11$.",
        "Subtract $2x$: $3x - 4 = 11$; add 4: $3x = 15$; so $x = 5$.",
        ("Subtract 2x from both sides.", "Now it is a two-step equation."),
        numeric_answer=5,
    ),
    ExerciseSpec(
        "both-brackets",
        ("both-sides", "distributive"),
        "numeric",
        "Brackets on both sides",
        "Solve $2(x + 3) = 4(x - 1)$.",
        "Expand: $2x + 6 = 4x - 4$; so $10 = 2x$ and $x = 5$.",
        ("Expand both sides first.", "Collect x on the side with the larger coefficient."),
        numeric_answer=5,
    ),
    ExerciseSpec(
        "both-no-solution",
        ("both-sides",),
        "single",
        "How many solutions?",
        "How many solutions does $3(x + 2) = 3x + 5$ have?",
        "Expanding gives $3x + 6 = 3x + 5$, i.e. $6 = 5$: never true, so there is no solution.",
        ("Expand and collect the x terms.", "What is left when the x terms cancel?"),
        choices=single_choices(
            "None",
            ("Exactly one", "The x terms cancel: look at what remains."),
            ("Infinitely many", "That happens when what remains is always true."),
        ),
    ),
    # Inequalities -------------------------------------------------------------------------------
    ExerciseSpec(
        "ineq-flip",
        ("inequalities",),
        "single",
        "Dividing by a negative",
        "Solve $-2x > 8$.",
        "Dividing by -2 flips the sign: $x < -4$.",
        ("What happens to an inequality when you divide by a negative number?",),
        choices=single_choices(
            "x < -4",
            ("x > -4", "Dividing by a negative number flips the inequality."),
            ("x > 4", "Check the sign of 8 ÷ (-2)."),
            ("x < 4", "8 ÷ (-2) is -4."),
        ),
    ),
    ExerciseSpec(
        "ineq-two-step",
        ("inequalities",),
        "text",
        "Solve an inequality",
        "Solve $3x - 4 \\le 11$ (write it like `x <= 7`).",
        "Add 4: $3x \\le 15$; divide by 3 (positive, no flip): $x \\le 5$.",
        ("Solve it like an equation.", "Dividing by a positive number keeps the sign."),
        accepted_answers=("x <= 5", "x<=5", "x ≤ 5", "5 >= x"),
    ),
    ExerciseSpec(
        "ineq-integers",
        ("inequalities",),
        "multiple",
        "Which values work?",
        "Which values of $x$ satisfy $2x + 1 < 7$? Select all that apply.",
        "$2x + 1 < 7$ gives $x < 3$: 0, 2 and -5 work; 3 does not (3 is not less than 3).",
        ("Solve for x first.", "Is 3 < 3?"),
        choices=(
            ChoiceSpec("0", True, "0 < 3."),
            ChoiceSpec("2", True, "2 < 3."),
            ChoiceSpec("3", False, "The inequality is strict: 3 is not less than 3."),
            ChoiceSpec("-5", True, "-5 < 3."),
        ),
    ),
    # Coordinate plane ---------------------------------------------------------------------------
    ExerciseSpec(
        "coord-quadrant",
        ("coordinate-plane",),
        "single",
        "Which quadrant?",
        "In which quadrant is the point $(-3, 5)$?",
        "Negative x and positive y: quadrant II (top left).",
        ("Is x positive or negative? And y?", "Quadrants are numbered counter-clockwise."),
        choices=single_choices(
            "II",
            ("I", "In quadrant I both coordinates are positive."),
            ("III", "In quadrant III both coordinates are negative."),
            ("IV", "Quadrant IV has positive x and negative y."),
        ),
    ),
    ExerciseSpec(
        "coord-distance",
        ("coordinate-plane",),
        "numeric",
        "Distance along an axis",
        "How far apart are the points $(2, -1)$ and $(2, 6)$?",
        "Same x, so the distance is the difference of the y values: $6 - (-1) = 7$.",
        ("The points are on one vertical line.",),
        numeric_answer=7,
    ),
    ExerciseSpec(
        "coord-read",
        ("coordinate-plane",),
        "text",
        "Read a point",
        "A point is 4 units left of the origin and 2 units up. Write its coordinates like "
        "`(1, 2)`.",
        "Left is negative x, up is positive y: $(-4, 2)$.",
        ("The x coordinate comes first.", "Left of the origin means x is negative."),
        accepted_answers=("(-4, 2)", "(-4,2)", "-4, 2", "-4,2"),
    ),
    # Slope --------------------------------------------------------------------------------------
    ExerciseSpec(
        "slope-two-points",
        ("slope",),
        "numeric",
        "Slope from two points",
        "What is the slope of the line through $(1, 2)$ and $(3, 8)$?",
        "$m = \\frac{8 - 2}{3 - 1} = \\frac{6}{2} = 3$.",
        ("Slope is rise over run.", "Rise: 8 - 2. Run: 3 - 1."),
        numeric_answer=3,
    ),
    ExerciseSpec(
        "slope-negative",
        ("slope", "fractions"),
        "numeric",
        "A negative slope",
        "What is the slope through $(-2, 5)$ and $(2, 3)$? Give a decimal.",
        "$m = \\frac{3 - 5}{2 - (-2)} = \\frac{-2}{4} = -0.5$.",
        ("Subtract in the same order on top and bottom.", "The run is 2 - (-2) = 4."),
        numeric_answer=-0.5,
        tolerance=0.01,
    ),
    ExerciseSpec(
        "slope-horizontal",
        ("slope",),
        "single",
        "A horizontal line",
        "What is the slope of the line through $(-1, 4)$ and $(5, 4)$?",
        "The rise is $4 - 4 = 0$, so the slope is $0$: the line is horizontal.",
        ("Compute the rise first.",),
        choices=single_choices(
            "0",
            ("undefined", "Undefined slope belongs to vertical lines."),
            ("1", "The y values do not change."),
            ("6", "That is the run, not the slope."),
        ),
    ),
    # Slope-intercept ----------------------------------------------------------------------------
    ExerciseSpec(
        "si-read",
        ("slope-intercept",),
        "multiple",
        "Read a line",
        "For the line $y = -2x + 7$, which statements are true? Select all that apply.",
        "In $y = mx + b$, $m = -2$ is the slope and $b = 7$ the y-intercept; a negative slope "
        "falls from left to right.",
        ("Compare with y = mx + b.",),
        choices=(
            ChoiceSpec("The slope is -2.", True, "m = -2."),
            ChoiceSpec("The line crosses the y-axis at 7.", True, "b = 7."),
            ChoiceSpec("The line rises from left to right.", False, "A negative slope falls."),
            ChoiceSpec("The slope is 7.", False, "7 is the intercept."),
        ),
    ),
    ExerciseSpec(
        "si-write",
        ("slope-intercept", "slope"),
        "text",
        "Write the equation",
        "Write the line with slope 2 through $(1, 1)$ in the form `y = mx + b`.",
        "$1 = 2 \\cdot 1 + b$ gives $b = -1$: $y = 2x - 1$ (the line in the picture above).",
        ("Put m = 2 and the point into y = mx + b.", "Solve 1 = 2 + b for b."),
        accepted_answers=("y = 2x - 1", "y=2x-1", "y = 2x + -1", "y = -1 + 2x"),
    ),
    ExerciseSpec(
        "si-intercept",
        ("slope-intercept",),
        "numeric",
        "Find the intercept",
        "Rewrite $2y - 6x = 8$ as $y = mx + b$. What is $b$?",
        "Add $6x$: $2y = 6x + 8$; divide by 2: $y = 3x + 4$, so $b = 4$.",
        ("Isolate y.", "Divide every term by 2."),
        numeric_answer=4,
    ),
    # Systems ------------------------------------------------------------------------------------
    ExerciseSpec(
        "sys-substitute",
        ("systems",),
        "numeric",
        "Substitution",
        "Solve $y = 2x$ and $x + y = 12$. What is $x$?",
        "Substitute: $x + 2x = 12$, so $3x = 12$ and $x = 4$ (then $y = 8$).",
        ("Replace y in the second equation.", "x + 2x = 3x."),
        numeric_answer=4,
    ),
    ExerciseSpec(
        "sys-eliminate",
        ("systems",),
        "text",
        "Elimination",
        "Solve $x + y = 10$ and $x - y = 2$. Write the solution like `(x, y)`.",
        "Add the equations: $2x = 12$, so $x = 6$ and $y = 4$: $(6, 4)$.",
        ("Add the two equations: y cancels.", "Put x back into x + y = 10."),
        accepted_answers=("(6, 4)", "(6,4)", "6, 4", "x = 6, y = 4"),
    ),
    ExerciseSpec(
        "sys-parallel",
        ("systems", "slope-intercept"),
        "single",
        "Parallel lines",
        "How many solutions does the system $y = 3x + 1$, $y = 3x - 2$ have?",
        "Both lines have slope 3 and different intercepts: they are parallel and never meet.",
        ("Compare the slopes and the intercepts.",),
        choices=single_choices(
            "None",
            ("One", "Lines with the same slope do not cross once."),
            ("Infinitely many", "The intercepts differ, so the lines are not the same."),
        ),
    ),
)

_CODE_CHECK = """\
```python
# Check a solution by substituting it back
x = 5
print(3 * x + 5 == 20)  # True
```
"""


def text_block(body: str) -> BlockSpec:
    return BlockSpec("text", body_md=body)


def exercise_blocks(*keys: str) -> tuple[BlockSpec, ...]:
    return tuple(BlockSpec("exercise", exercise=key) for key in keys)


MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        "Numbers and operations",
        "Signed numbers, fractions, powers and the order in which to compute them.",
        (
            LessonSpec(
                "Working with integers",
                ("integers",),
                12,
                (
                    text_block(
                        "## Integers\n\nIntegers are the whole numbers and their opposites: "
                        "$\\dots, -2, -1, 0, 1, 2, \\dots$\n\nOn a number line, **adding** a "
                        "positive number moves right and adding a negative number moves left. "
                        "Two rules cover the signs of products:\n\n"
                        "$$(-a)(-b) = ab \\qquad (-a)(b) = -ab$$\n\nWatch the short video, "
                        "then try the exercises."
                    ),
                    BlockSpec(
                        "video",
                        media="number-line.mp4",
                        captions="number-line.en.vtt",
                        transcript=transcript_of(NUMBER_LINE_NARRATION),
                    ),
                    *exercise_blocks("int-add", "int-multiply", "int-subtract"),
                ),
            ),
            LessonSpec(
                "Fractions without fear",
                ("fractions",),
                15,
                (
                    text_block(
                        "## Fractions\n\nTo add fractions, rewrite them over a **common "
                        "denominator**:\n\n$$\\frac{a}{b} + \\frac{c}{d} = \\frac{ad + cb}{bd}$$"
                        "\n\nTo multiply, multiply straight across: $\\frac{a}{b} \\cdot "
                        "\\frac{c}{d} = \\frac{ac}{bd}$. Equal fractions cover the same length:"
                    ),
                    BlockSpec(
                        "image",
                        media="fraction-bars.png",
                        alt_text="Two bars of equal length: the first split in two halves with "
                        "one shaded, the second in four quarters with two shaded. The shaded "
                        "parts are the same length, so 1/2 equals 2/4.",
                    ),
                    *exercise_blocks("frac-add", "frac-simplify", "frac-multiply"),
                ),
            ),
            LessonSpec(
                "Order of operations and powers",
                ("order-of-operations", "exponents"),
                15,
                (
                    text_block(
                        "## Order of operations\n\n1. Brackets\n2. Powers\n3. Multiplication "
                        "and division, left to right\n4. Addition and subtraction, left to "
                        "right\n\nPowers of the same base follow two rules:\n\n"
                        "$$x^a \\cdot x^b = x^{a+b} \\qquad (x^a)^b = x^{ab}$$\n\n"
                        "Python follows the same order, with `**` for powers:\n\n"
                        "```python\nprint(3 + 4 * 5)   # 23\nprint(-2 ** 4)    # -16: "
                        "the power comes first\nprint((-2) ** 4)  # 16\n```"
                    ),
                    *exercise_blocks(
                        "ops-basic",
                        "ops-brackets",
                        "ops-mixed",
                        "exp-power",
                        "exp-product-rule",
                        "exp-negative-base",
                    ),
                ),
            ),
        ),
    ),
    ModuleSpec(
        "Expressions",
        "Letters that stand for numbers: writing, evaluating and simplifying expressions.",
        (
            LessonSpec(
                "Letters that stand for numbers",
                ("variables", "evaluating"),
                15,
                (
                    text_block(
                        "## Variables\n\nA **variable** is a letter that stands for a number. "
                        "In $7x + 3$, 7 is the **coefficient** of $x$ and 3 is a **constant**."
                        "\n\nTo **evaluate** an expression, substitute a value and compute; "
                        "wrap negative values in brackets:\n\n$$x^2 + 2x \\text{ at } x = -3: "
                        "\\quad (-3)^2 + 2(-3) = 3$$\n\nListen to the same evaluation, "
                        "step by step."
                    ),
                    BlockSpec(
                        "audio",
                        media="evaluate-expression.wav",
                        transcript=transcript_of(EVALUATION_NARRATION),
                    ),
                    *exercise_blocks(
                        "var-translate",
                        "var-identify",
                        "var-word",
                        "eval-linear",
                        "eval-square",
                        "eval-two-vars",
                    ),
                ),
            ),
            LessonSpec(
                "Simplifying expressions",
                ("like-terms", "distributive"),
                15,
                (
                    text_block(
                        "## Like terms and brackets\n\n**Like terms** have the same variable "
                        "part: $4x$ and $-x$ are like terms, $x$ and $x^2$ are not.\n\nThe "
                        "**distributive property** expands brackets:\n\n"
                        "$$a(b + c) = ab + ac$$\n\nA minus sign in front of brackets changes "
                        "the sign of every term inside: $-(x - 3) = -x + 3$."
                    ),
                    *exercise_blocks(
                        "like-combine",
                        "like-identify",
                        "like-coefficient",
                        "dist-expand",
                        "dist-negative",
                        "dist-factor",
                    ),
                ),
            ),
        ),
    ),
    ModuleSpec(
        "Linear equations and inequalities",
        "Keep the balance: undo operations on both sides to find the unknown.",
        (
            LessonSpec(
                "One-step equations",
                ("one-step",),
                10,
                (
                    text_block(
                        "## Keep the balance\n\nAn equation is a balance: whatever you do to "
                        "one side, do to the other. Undo the operation applied to $x$:\n\n"
                        "$$x + 9 = 4 \\;\\Rightarrow\\; x = 4 - 9 = -5$$"
                    ),
                    *exercise_blocks("one-add", "one-multiply", "one-divide"),
                ),
            ),
            LessonSpec(
                "Two-step equations",
                ("two-step",),
                12,
                (
                    text_block(
                        "## Two steps\n\nFor $ax + b = c$, first undo the addition, then the "
                        "multiplication:\n\n$$x = \\frac{c - b}{a}$$\n\nAlways check your "
                        "answer by substituting it back:\n\n" + _CODE_CHECK
                    ),
                    *exercise_blocks("two-basic", "two-fraction", "two-decimal"),
                ),
            ),
            LessonSpec(
                "Variables on both sides",
                ("both-sides",),
                15,
                (
                    text_block(
                        "## Variables on both sides\n\nExpand brackets, then move every $x$ "
                        "term to one side and every number to the other:\n\n"
                        "$$5x - 4 = 2x + 11 \\;\\Rightarrow\\; 3x = 15 \\;\\Rightarrow\\; "
                        "x = 5$$\n\nIf the $x$ terms cancel, a true statement (like $5 = 5$) "
                        "means infinitely many solutions, a false one (like $6 = 5$) none."
                    ),
                    *exercise_blocks("both-collect", "both-brackets", "both-no-solution"),
                ),
            ),
            LessonSpec(
                "Inequalities",
                ("inequalities",),
                12,
                (
                    text_block(
                        "## Inequalities\n\nSolve an inequality like an equation, with one "
                        "exception: multiplying or dividing by a **negative** number flips "
                        "the sign.\n\n$$-2x > 8 \\;\\Rightarrow\\; x < -4$$"
                    ),
                    *exercise_blocks("ineq-flip", "ineq-two-step", "ineq-integers"),
                ),
            ),
        ),
    ),
    ModuleSpec(
        "Lines and systems",
        "Points, slopes and straight lines, and where two lines meet.",
        (
            LessonSpec(
                "The coordinate plane",
                ("coordinate-plane",),
                10,
                (
                    text_block(
                        "## Points in the plane\n\nA point $(x, y)$ is $x$ units right "
                        "(left if negative) of the origin and $y$ units up (down if negative)."
                        " The axes split the plane into four quadrants, numbered I to IV "
                        "counter-clockwise from the top right."
                    ),
                    BlockSpec(
                        "image",
                        media="coordinate-plane.png",
                        alt_text="A coordinate plane with a grid, the x and y axes, and the "
                        "straight line y = 2x - 1 passing through the marked points (1, 1) "
                        "and (2, 3).",
                    ),
                    *exercise_blocks("coord-quadrant", "coord-distance", "coord-read"),
                ),
            ),
            LessonSpec(
                "Slope and the equation of a line",
                ("slope", "slope-intercept"),
                18,
                (
                    text_block(
                        "## Slope\n\nThe **slope** of the line through $(x_1, y_1)$ and "
                        "$(x_2, y_2)$ is rise over run:\n\n$$m = \\frac{y_2 - y_1}{x_2 - x_1}$$"
                        "\n\nEvery non-vertical line can be written $y = mx + b$: $m$ is the "
                        "slope and $b$ the y-intercept.\n\n```python\ndef slope(p, q):\n    "
                        "return (q[1] - p[1]) / (q[0] - p[0])\n\nprint(slope((1, 1), (2, 3)))"
                        "  # 2.0\n```"
                    ),
                    *exercise_blocks(
                        "slope-two-points",
                        "slope-negative",
                        "slope-horizontal",
                        "si-read",
                        "si-write",
                        "si-intercept",
                    ),
                ),
            ),
            LessonSpec(
                "Systems of equations",
                ("systems",),
                18,
                (
                    text_block(
                        "## Two equations, two unknowns\n\nThe solution of a system is the "
                        "point where the two lines meet. **Substitution** replaces one "
                        "variable using one equation; **elimination** adds the equations so "
                        "that a variable cancels:\n\n$$\\begin{cases} x + y = 10 \\\\ x - y = 2"
                        " \\end{cases} \\;\\Rightarrow\\; 2x = 12$$\n\nParallel lines (same "
                        "slope, different intercept) never meet: no solution."
                    ),
                    *exercise_blocks("sys-substitute", "sys-eliminate", "sys-parallel"),
                ),
            ),
        ),
    ),
)

ALGEBRA = CourseSpec(
    slug=COURSE_SLUG,
    title=COURSE_TITLE,
    summary=COURSE_SUMMARY,
    description_md=COURSE_DESCRIPTION,
    subject="mathematics",
    level="beginner",
    skills=SKILLS,
    exercises=EXERCISES,
    modules=MODULES,
)
