//! `SEQUENCE OF`: a checked view over received bytes, or a caller's slice.

use core::fmt;
use core::marker::PhantomData;

use crate::ber::{Decode, Encode, Tagged, SEQUENCE};
use crate::codec::{LengthForm, Reader, Writer};
use crate::error::Result;

/// A `SEQUENCE OF T`, either a validated view over received bytes or a caller's slice.
///
/// Decoding checks every element once; iteration then decodes them again on the fly, so no
/// heap is needed. Two sequences are equal when their elements are, whichever their backing.
pub struct SeqOf<'a, T> {
    inner: SeqInner<'a, T>,
}

enum SeqInner<'a, T> {
    Encoded {
        bytes: &'a [u8],
        base: usize,
        count: usize,
    },
    Slice(&'a [T]),
}

impl<T> Clone for SeqInner<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SeqInner<'_, T> {}
impl<T> Clone for SeqOf<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SeqOf<'_, T> {}

impl<'a, T> SeqOf<'a, T> {
    /// A sequence of the elements in `items` (for building messages).
    #[must_use]
    pub const fn from_slice(items: &'a [T]) -> Self {
        Self {
            inner: SeqInner::Slice(items),
        }
    }

    /// A view over the encodings of `count` elements (their TLVs back to back) that this
    /// crate wrote itself, so they decode: how an owned sequence lends out a view without
    /// a slice of borrowed elements to point at. Iteration ends early should they not.
    #[must_use]
    #[cfg(feature = "alloc")]
    pub(crate) const fn from_own_encoding(bytes: &'a [u8], count: usize) -> Self {
        Self {
            inner: SeqInner::Encoded {
                bytes,
                base: 0,
                count,
            },
        }
    }

    /// An empty sequence.
    #[must_use]
    pub const fn empty() -> Self {
        Self::from_slice(&[])
    }

    /// The number of elements.
    #[must_use]
    pub const fn len(&self) -> usize {
        match self.inner {
            SeqInner::Encoded { count, .. } => count,
            SeqInner::Slice(s) => s.len(),
        }
    }

    /// Whether there are no elements.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, T: Decode<'a> + Copy> SeqOf<'a, T> {
    /// The elements, in order.
    #[must_use]
    pub fn iter(&self) -> SeqIter<'a, T> {
        match self.inner {
            SeqInner::Encoded { bytes, base, .. } => {
                SeqIter::Encoded(Reader::new(bytes, base), PhantomData)
            }
            SeqInner::Slice(s) => SeqIter::Slice(s.iter()),
        }
    }

    /// The first element.
    #[must_use]
    pub fn first(&self) -> Option<T> {
        self.iter().next()
    }
}

impl<'a, T: Decode<'a> + Copy> IntoIterator for &SeqOf<'a, T> {
    type Item = T;
    type IntoIter = SeqIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The iterator of a [`SeqOf`].
pub enum SeqIter<'a, T> {
    /// Decoding checked bytes.
    Encoded(Reader<'a>, PhantomData<T>),
    /// Copying out of a slice.
    Slice(core::slice::Iter<'a, T>),
}

impl<'a, T: Decode<'a> + Copy> Iterator for SeqIter<'a, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            // The bytes were validated element by element when the sequence was decoded, so
            // this cannot fail; should it ever, iteration simply ends.
            Self::Encoded(r, _) if !r.is_empty() => T::decode(r, "sequence element").ok(),
            Self::Encoded(..) => None,
            Self::Slice(it) => it.next().copied(),
        }
    }
}

impl<T> Tagged for SeqOf<'_, T> {
    const TAG: u8 = SEQUENCE;
}

impl<'a, T: Decode<'a> + Copy> Decode<'a> for SeqOf<'a, T> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        let base = r.offset();
        let bytes = r.remaining();
        let mut count = 0usize;
        while !r.is_empty() {
            T::decode(r, "sequence element")?;
            count += 1;
        }
        Ok(Self {
            inner: SeqInner::Encoded { bytes, base, count },
        })
    }
}

impl<'a, T: Decode<'a> + Encode + Copy> Encode for SeqOf<'a, T> {
    fn value_len_in(&self, form: LengthForm) -> usize {
        self.iter().map(|e| e.encoded_len_in(form)).sum()
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        self.iter().try_for_each(|e| e.encode(w))
    }
}

/// The elements, as a sequence.
#[cfg(feature = "serde")]
impl<'a, T: Decode<'a> + Copy + serde::Serialize> serde::Serialize for SeqOf<'a, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'a, T: Decode<'a> + Copy + PartialEq> PartialEq for SeqOf<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a, T: Decode<'a> + Copy + Eq> Eq for SeqOf<'a, T> {}

impl<'a, T: Decode<'a> + Copy + fmt::Debug> fmt::Debug for SeqOf<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
