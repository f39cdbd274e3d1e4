//! One table per wire enum: the variant, its wire string, and nothing written twice.
//!
//! Every enum the service may extend gets an `Other(String)` catch-all, so a value this
//! version does not know still parses; the strict check lives in validation.

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept exactly as it was sent.
            Other(String),
        }

        impl $name {
            /// The wire strings of every known value, in table order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The string this value has on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }

            /// Parses a wire string; unknown strings become `Other`.
            pub fn from_wire(wire: &str) -> Self {
                match wire {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// Whether this is one of the values this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(wire: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(wire))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let wire = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_wire(&wire))
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                // Open: the known values are examples, never the only ones (a new value is sent as written).
                ::schemars::json_schema!({ "type": "string", "examples": Self::KNOWN })
            }
        }
    };
}

pub(crate) use wire_enum;
