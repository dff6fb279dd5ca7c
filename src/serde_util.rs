//! Helpers of the `serde` feature shared by the layers.

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;

/// Deserializes a value from its text form (`FromStr`), borrowed or not.
pub(crate) fn deserialize_from_str<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: fmt::Display,
    D: serde::Deserializer<'de>,
{
    struct Text<T>(PhantomData<T>);

    impl<T> serde::de::Visitor<'_> for Text<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            v.parse().map_err(E::custom)
        }
    }

    d.deserialize_str(Text(PhantomData))
}
