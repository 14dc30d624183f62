//! [`named_enum!`](crate::named_enum): enums whose variants have a stable number and a name
//! (setup stages, error kinds, exit reasons, namespaces, resource limits), declared as one
//! table instead of an enum plus hand-kept `ALL` and name lists. Also compiled into the init.

/// Declare a `#[repr(u32)]` enum from a table of `Variant = number => "name"` rows, with:
/// - `ALL`: every variant, in declaration order;
/// - `name()`: the variant's name;
/// - `from_u32()`: the variant with that number, if any.
///
/// Attributes and doc comments on the enum and on each row are kept.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $( $(#[$row_meta:meta])* $variant:ident = $number:literal => $name:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[repr(u32)]
        $vis enum $enum {
            $( $(#[$row_meta])* $variant = $number, )+
        }

        impl $enum {
            /// Every variant, in declaration order.
            pub const ALL: [$enum; [$(stringify!($variant)),+].len()] = [$($enum::$variant),+];

            /// Its name in messages, JSON and on the command line.
            pub fn name(self) -> &'static str {
                match self {
                    $( $enum::$variant => $name, )+
                }
            }

            /// The variant with number `v` (`None` for numbers this build does not know).
            pub fn from_u32(v: u32) -> Option<$enum> {
                Self::ALL.iter().copied().find(|x| *x as u32 == v)
            }
        }
    };
}
