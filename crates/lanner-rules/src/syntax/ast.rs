//! The syntax tree of a condition, before any name is resolved.
//!
//! Field names, macro names and values are plain strings here; binding them
//! to the field catalog happens in `check`. Every node carries a [`TextSpan`]
//! into the condition text it was parsed from.

/// Identifies one condition text (a macro's or a rule's, after appends and
/// exceptions) in the loader's table of texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TextId(pub u32);

/// A byte range in one condition text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TextSpan {
    /// The text the range is in.
    pub text: TextId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: TextSpan,
}

/// The kinds of [`Expr`].
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// All of the operands (two or more).
    And(Vec<Expr>),
    /// Any of the operands (two or more).
    Or(Vec<Expr>),
    /// The negation of the operand.
    Not(Box<Expr>),
    /// A reference to a macro by name.
    Macro(String),
    /// A comparison of a field with a value, list or field.
    Check(Box<Check>),
}

/// `<operand> <op> [modifier] <rhs>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The left-hand side: a field or a transformer over fields.
    pub lhs: Operand,
    /// The operator.
    pub op: Op,
    /// `oneof`/`anyof`/`allof` after a string operator.
    pub modifier: Option<Modifier>,
    /// The right-hand side.
    pub rhs: Rhs,
    /// Where the operator was written.
    pub op_span: TextSpan,
}

/// A field, possibly under transformers.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// `name` or `name[arg]`.
    Field(FieldRef),
    /// `tolower(x)`, `len(x)`, ...
    Transform(Transform),
}

/// `name` or `name[arg]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    /// The dotted field name.
    pub name: String,
    /// The bracketed argument, unquoted.
    pub arg: Option<Value>,
    /// Where the field was written, argument included.
    pub span: TextSpan,
}

/// `name(arg, ...)[arg]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Transform {
    /// The transformer's name.
    pub name: String,
    /// Its arguments.
    pub args: Vec<TransformArg>,
    /// A bracketed argument after the call (`getopt(...)[c]`).
    pub arg: Option<Value>,
    /// Where the call was written.
    pub span: TextSpan,
}

/// An argument of a transformer.
#[derive(Clone, Debug, PartialEq)]
pub enum TransformArg {
    /// A field or nested transformer.
    Operand(Operand),
    /// A quoted string or a number.
    Value(Value),
    /// `(a, b)`.
    List(Vec<TransformArg>),
}

/// The right-hand side of a check.
#[derive(Clone, Debug, PartialEq)]
pub enum Rhs {
    /// Nothing (`exists`).
    None,
    /// A single value.
    Value(Value),
    /// `(a, b, c)`.
    List(List),
    /// `in name`: a one-element list, or a list's name.
    ListRef(Value),
    /// `val(field)` or a transformer: compare with another field.
    Operand(Operand),
}

/// A list literal.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    /// The elements.
    pub items: Vec<Value>,
    /// Where the list was written, parentheses included.
    pub span: TextSpan,
}

/// A string value: bare or quoted, already unescaped.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The value.
    pub text: String,
    /// Whether it was quoted (quoted values are never list names).
    pub quoted: bool,
    /// Where it was written.
    pub span: TextSpan,
}

macro_rules! ops {
    ($($op:ident => $text:literal,)*) => {
        /// A comparison operator.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Op { $(#[doc = concat!("`", $text, "`")] $op,)* }

        impl Op {
            /// Every operator.
            pub const ALL: &'static [Op] = &[$(Op::$op,)*];

            /// The operator as written.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Op::$op => $text,)* }
            }

            /// The operator named `text`, if any.
            // Not `FromStr`: there is no error to report, only `None`.
            #[allow(clippy::should_implement_trait)]
            #[must_use]
            pub fn from_str(text: &str) -> Option<Op> {
                match text { $($text => Some(Op::$op),)* _ => None }
            }
        }
    };
}

ops! {
    Eq => "=",
    EqEq => "==",
    Ne => "!=",
    Lt => "<",
    Le => "<=",
    Gt => ">",
    Ge => ">=",
    Contains => "contains",
    IContains => "icontains",
    BContains => "bcontains",
    StartsWith => "startswith",
    BStartsWith => "bstartswith",
    EndsWith => "endswith",
    Glob => "glob",
    IGlob => "iglob",
    Regex => "regex",
    In => "in",
    Intersects => "intersects",
    PMatch => "pmatch",
    Exists => "exists",
}

impl Op {
    /// `in`, `intersects`, `pmatch`: the right-hand side is a list.
    #[must_use]
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }

    /// `<`, `<=`, `>`, `>=`.
    #[must_use]
    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    /// Operators written as words (need blanks around them).
    #[must_use]
    pub fn is_word(self) -> bool {
        self.as_str().starts_with(|c: char| c.is_ascii_alphabetic())
    }

    /// Operators that accept `oneof`/`anyof`/`allof`.
    #[must_use]
    pub fn takes_modifier(self) -> bool {
        !self.takes_list() && !self.is_ordering() && self != Op::Exists
    }
}

/// `oneof`, `anyof`, `allof`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Exactly one element of the list satisfies the operator.
    OneOf,
    /// At least one does.
    AnyOf,
    /// All do.
    AllOf,
}

impl Modifier {
    /// As written.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }
}

impl Operand {
    /// Where the operand was written.
    #[must_use]
    pub fn span(&self) -> TextSpan {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transform(t) => t.span,
        }
    }
}

impl Expr {
    /// Sets every span in the tree to the default, so that trees parsed from
    /// different texts can be compared.
    pub fn clear_spans(&mut self) {
        self.span = TextSpan::default();
        match &mut self.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter_mut().for_each(Expr::clear_spans);
            }
            ExprKind::Not(inner) => inner.clear_spans(),
            ExprKind::Macro(_) => {}
            ExprKind::Check(check) => {
                check.op_span = TextSpan::default();
                check.lhs.clear_spans();
                match &mut check.rhs {
                    Rhs::None => {}
                    Rhs::Value(v) | Rhs::ListRef(v) => v.span = TextSpan::default(),
                    Rhs::List(list) => {
                        list.span = TextSpan::default();
                        list.items
                            .iter_mut()
                            .for_each(|v| v.span = TextSpan::default());
                    }
                    Rhs::Operand(op) => op.clear_spans(),
                }
            }
        }
    }
}

impl Operand {
    fn clear_spans(&mut self) {
        match self {
            Operand::Field(f) => {
                f.span = TextSpan::default();
                if let Some(arg) = &mut f.arg {
                    arg.span = TextSpan::default();
                }
            }
            Operand::Transform(t) => {
                t.span = TextSpan::default();
                if let Some(arg) = &mut t.arg {
                    arg.span = TextSpan::default();
                }
                t.args.iter_mut().for_each(TransformArg::clear_spans);
            }
        }
    }
}

impl TransformArg {
    fn clear_spans(&mut self) {
        match self {
            TransformArg::Operand(op) => op.clear_spans(),
            TransformArg::Value(v) => v.span = TextSpan::default(),
            TransformArg::List(items) => items.iter_mut().for_each(TransformArg::clear_spans),
        }
    }
}
