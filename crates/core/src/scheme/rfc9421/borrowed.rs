//! The dictionaries a verifier reads on every request (`Signature-Input`,
//! `Signature`, `Content-Digest`), parsed by `sfv` (RFC 8941) through its
//! visitor interface into values that borrow from the field's text: no
//! copy of each key and string, no map, where `sfv`'s own `Dictionary`
//! would own every piece.

use std::convert::Infallible;

use sfv::visitor::{
    DictionaryVisitor, EntryVisitor, InnerListVisitor, ItemVisitor, ParameterVisitor,
};
use sfv::{BareItemFromInput, KeyRef, Parser};

/// An item: its bare item and its parameters.
#[derive(Debug)]
pub(super) struct Item<'de> {
    pub bare: BareItemFromInput<'de>,
    pub params: Params<'de>,
}

/// Parameters in the order first given; one given twice keeps its last
/// value (RFC 8941 section 4.2.3.2).
#[derive(Debug, Default)]
pub(super) struct Params<'de>(pub Vec<(&'de KeyRef, BareItemFromInput<'de>)>);

impl<'de> Params<'de> {
    fn set(&mut self, key: &'de KeyRef, value: BareItemFromInput<'de>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A dictionary's member: an item, or an inner list with its parameters.
#[derive(Debug)]
pub(super) enum Member<'de> {
    Item(Item<'de>),
    InnerList(Vec<Item<'de>>, Params<'de>),
}

/// A dictionary: its members in the order first given, a key given twice
/// with its last value (RFC 8941 section 4.2.2).
#[derive(Debug, Default)]
pub(super) struct Dictionary<'de> {
    pub members: Vec<(&'de KeyRef, Member<'de>)>,
    /// Whether some key was given more than once.
    pub repeated: bool,
}

impl<'de> Dictionary<'de> {
    /// Parses `text` as an RFC 8941 dictionary.
    pub fn parse(text: &'de str) -> Result<Self, sfv::Error> {
        Parser::new(text)
            .with_version(sfv::Version::Rfc8941)
            .parse_dictionary_with_visitor(Dictionary::default())
    }

    pub fn get(&self, key: &str) -> Option<&Member<'de>> {
        self.members
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, m)| m)
    }
}

impl<'de> DictionaryVisitor<'de> for Dictionary<'de> {
    type Out = Self;
    type Error = Infallible;

    fn entry(&mut self, key: &'de KeyRef) -> Result<impl EntryVisitor<'de>, Infallible> {
        let index = match self.members.iter().position(|(k, _)| *k == key) {
            Some(index) => {
                self.repeated = true;
                index
            }
            None => {
                // Overwritten once the member is read.
                let placeholder = Member::InnerList(Vec::new(), Params::default());
                self.members.push((key, placeholder));
                self.members.len() - 1
            }
        };
        Ok(Entry(&mut self.members[index].1))
    }

    fn finish(self) -> Result<Self, Infallible> {
        Ok(self)
    }
}

/// Where a member being read goes.
struct Entry<'a, 'de>(&'a mut Member<'de>);

impl<'de> EntryVisitor<'de> for Entry<'_, 'de> {
    type Error = Infallible;

    fn item(self) -> Result<impl ItemVisitor<'de>, Infallible> {
        let slot = self.0;
        Ok(move |bare| {
            Ok::<_, Infallible>(Collect::new(move |params| {
                *slot = Member::Item(Item { bare, params });
            }))
        })
    }

    fn inner_list(self) -> Result<impl InnerListVisitor<'de>, Infallible> {
        Ok(InnerList {
            slot: self.0,
            items: Vec::new(),
        })
    }
}

/// An inner list being read into `slot`.
struct InnerList<'a, 'de> {
    slot: &'a mut Member<'de>,
    items: Vec<Item<'de>>,
}

impl<'de> InnerListVisitor<'de> for InnerList<'_, 'de> {
    type Error = Infallible;

    fn item(&mut self) -> Result<impl ItemVisitor<'de>, Infallible> {
        let items = &mut self.items;
        Ok(move |bare| {
            Ok::<_, Infallible>(Collect::new(move |params| {
                items.push(Item { bare, params });
            }))
        })
    }

    fn finish(self) -> Result<impl ParameterVisitor<'de>, Infallible> {
        let (slot, items) = (self.slot, self.items);
        Ok(Collect::new(move |params| {
            *slot = Member::InnerList(items, params);
        }))
    }
}

/// Parameters being read, handed to `done` once complete.
struct Collect<'de, F> {
    params: Params<'de>,
    done: F,
}

impl<'de, F: FnOnce(Params<'de>)> Collect<'de, F> {
    fn new(done: F) -> Self {
        Collect {
            params: Params::default(),
            done,
        }
    }
}

impl<'de, F: FnOnce(Params<'de>)> ParameterVisitor<'de> for Collect<'de, F> {
    type Out = ();
    type Error = Infallible;

    fn parameter(
        &mut self,
        key: &'de KeyRef,
        value: BareItemFromInput<'de>,
    ) -> Result<(), Infallible> {
        self.params.set(key, value);
        Ok(())
    }

    fn finish(self) -> Result<(), Infallible> {
        (self.done)(self.params);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sfv::FieldType as _;

    /// What `sfv`'s own dictionary makes of `text`, written back.
    fn owned(text: &str) -> String {
        Parser::new(text)
            .with_version(sfv::Version::Rfc8941)
            .parse::<sfv::Dictionary>()
            .unwrap()
            .serialize()
            .unwrap()
    }

    /// The borrowed dictionary of `text`, written back the same way.
    fn borrowed(text: &str) -> String {
        let dict = Dictionary::parse(text).unwrap();
        let mut out = sfv::DictSerializer::new();
        for (key, member) in &dict.members {
            match member {
                Member::Item(item) => {
                    out.bare_item(key, &item.bare)
                        .parameters(item.params.0.iter().map(|(k, v)| (*k, v)));
                }
                Member::InnerList(items, params) => {
                    let mut list = out.inner_list(key);
                    for item in items {
                        list.bare_item(&item.bare)
                            .parameters(item.params.0.iter().map(|(k, v)| (*k, v)));
                    }
                    list.finish()
                        .parameters(params.0.iter().map(|(k, v)| (*k, v)));
                }
            }
        }
        out.finish().unwrap()
    }

    #[test]
    fn reads_what_sfvs_own_dictionary_reads() {
        for text in [
            r#"sig1=("@method" "@authority";req "example-dict";key="a");created=1618884473;keyid="test-key-rsa-pss""#,
            r#"sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"#,
            r#"a=1, b=(x y);p=?0, a=("z"), c, d=:AAAA:;k="\"q\"", b=2;x=1;x=2"#,
            r#"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:AAAA:"#,
        ] {
            assert_eq!(borrowed(text), owned(text), "{text}");
        }
        assert!(Dictionary::parse("a=1, b=2").is_ok_and(|d| !d.repeated));
        assert!(Dictionary::parse("a=1, a=2").is_ok_and(|d| d.repeated));
        assert!(Dictionary::parse("a=(").is_err());
    }
}
