//! The field catalog: every field a `k8s_audit` rule can name, in one declarative table.
//!
//! A field is known by its [`FieldId`] (an index into [`fields()`]); the rule compiler
//! resolves names once with [`lookup`], and the engine never handles names afterwards. Each
//! row also carries a private recipe telling [`crate::extract`] how to compute the value, so
//! the name, its documentation and its behaviour cannot drift apart. The rows themselves live
//! in [`crate::table`].

use crate::table::FIELDS;

/// A field of the catalog: the index of its row in [`fields()`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

impl FieldId {
    /// The row of this field.
    ///
    /// Ids come from [`lookup`] or from enumerating [`fields()`]; an id past the end of the
    /// table is a programming error and panics.
    #[must_use]
    pub fn def(self) -> &'static FieldDef {
        &FIELDS[usize::from(self.0)]
    }

    /// The row of this field, or `None` for an id past the end of the table.
    #[must_use]
    pub fn get(self) -> Option<&'static FieldDef> {
        FIELDS.get(usize::from(self.0))
    }
}

/// The type of a field's values, as Falco declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Text; every `ka.*`, `jevt.*` and `json.*` field, numbers and booleans included.
    String,
    /// An unsigned integer (`evt.num`).
    Uint64,
    /// An absolute time in nanoseconds since the epoch (`evt.rawtime*`).
    AbsTime,
    /// A boolean.
    Bool,
}

/// The argument a field takes: `field[arg]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// No argument allowed.
    None,
    /// Optional `[N]`: a decimal index without leading zeros.
    Index,
    /// Required `[key]`: any text.
    Key,
    /// Required `[/json/pointer]`: an RFC 6901 pointer (leading `/` optional).
    JsonPointer,
}

/// One row of the catalog.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// The full name, e.g. `ka.user.name`.
    pub name: &'static str,
    /// The type of each value.
    pub ty: FieldType,
    /// Whether the field yields a list of values (only `in`, `intersects`, `exists` apply).
    pub list: bool,
    /// The argument the field takes.
    pub arg: ArgKind,
    /// One line saying what the field is.
    pub desc: &'static str,
    /// Which JSON the field reads, as pointers with `[*]` for every array element.
    pub reads: &'static str,
    /// Kept only for compatibility; rules should use the replacement named in `desc`.
    pub deprecated: bool,
    /// How [`crate::extract`] computes the value.
    pub(crate) recipe: Recipe,
}

/// The whole catalog; `FieldId(i)` names `fields()[i]`.
#[must_use]
pub fn fields() -> &'static [FieldDef] {
    &FIELDS
}

/// The id of the field named exactly `name`.
#[must_use]
pub fn lookup(name: &str) -> Option<FieldId> {
    let at = FIELDS.iter().position(|f| f.name == name)?;
    u16::try_from(at).ok().map(FieldId)
}

/// How a field's value is computed. Each variant is one of Falco's extraction routines.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Recipe {
    /// fastjson `Get(path...)`; list fields need an array and stringify its elements.
    Keys(&'static [&'static str]),
    /// `getValuesRecursive(path)` with the index argument, then the slots are turned into
    /// strings as [`Slots`] says.
    Walk(&'static [&'static str], Slots),
    /// First value of a query parameter of `requestURI`.
    UriParam,
    /// `responseObject.metadata.name` when the target is a pod itself.
    TargetPodName,
    /// Names of binding subjects of one kind.
    Subjects(SubjectKind),
    /// Always `"true"` (Falco's legacy behaviour).
    HasName,
    /// `"true"` when any container of `spec.containers` is privileged, else `"false"`.
    AnyPrivileged,
    /// The image (or its repository) of `spec.containers[0]`.
    FirstImage { repository: bool },
    /// Per port of each container: `hostPort`, else `containerPort`. The path leads to the
    /// containers' `ports`.
    HostPorts(&'static [&'static str]),
    /// Per container found by walking `list` (which ends with an empty key, so that the
    /// index selects a container): its value at `own`, else the pod-level value at `pod`,
    /// else `"0"`.
    Effective {
        list: &'static [&'static str],
        own: &'static [&'static str],
        pod: &'static [&'static str],
    },
    /// A property of every `requestObject.rules[*]`, flattened.
    RulesField(&'static str),
    /// The top-level `sourceIPs`, one value per address.
    SourceIps,
    /// Whether a volume's host path matches the key argument.
    VolumeHostPath,
    /// The keys other than `name` of each volume.
    VolumeTypes,
    /// The json plugin's fields.
    Json(JsonField),
    /// The generic `evt.*` fields.
    Evt(EvtField),
}

/// How the slots found by a walk become values.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slots {
    /// Drop missing slots (`arrayAsStringsSkipNil`).
    SkipNil,
    /// Any missing slot makes the field unavailable (`arrayAsStrings`).
    Strict,
    /// Like `Strict`, then keep the naive repository part of each image.
    Repository,
    /// Each slot is an array of strings joined with spaces; missing slots are dropped.
    Joined,
    /// Drop missing slots and spread array slots into one value per element.
    Flatten,
}

/// Which binding subjects to name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SubjectKind {
    User,
    Group,
    ServiceAccount,
    /// `ServiceAccount` subjects as `namespace:name`.
    NamespacedServiceAccount,
}

/// The json plugin's fields (and their `jevt.*` aliases).
#[derive(Clone, Copy, Debug)]
pub(crate) enum JsonField {
    Value,
    Obj,
    RawTime,
}

/// The generic event fields.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EvtField {
    Num,
    Time,
    TimeS,
    TimeIso8601,
    Datetime,
    DatetimeS,
    RawTime,
    RawTimeS,
    RawTimeNs,
    Source,
    PluginName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lookup_finds_each() {
        for (i, f) in fields().iter().enumerate() {
            assert_eq!(lookup(f.name), Some(FieldId(u16::try_from(i).unwrap())));
        }
        assert_eq!(lookup("ka.nope"), None);
    }

    #[test]
    fn catalog_has_100_ka_fields_and_the_json_and_evt_fields() {
        let count = |p: &str| fields().iter().filter(|f| f.name.starts_with(p)).count();
        assert_eq!(count("ka."), 100);
        assert_eq!(count("jevt."), 3);
        assert_eq!(count("json."), 3);
        assert_eq!(count("evt."), 11);
    }

    #[test]
    fn out_of_range_ids_have_no_row() {
        assert!(FieldId(u16::MAX).get().is_none());
        assert_eq!(FieldId(0).get().map(|f| f.name), Some("ka.auditid"));
    }
}
