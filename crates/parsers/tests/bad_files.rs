//! Bad inputs fail with the right typed error and a readable message, never a panic or a hang.

mod common;

use std::time::Duration;

use lightrag_parsers::{
    is_supported, parse, parse_guarded, run_guarded_for_test, supported_extensions, Limits,
    ParseError,
};

#[test]
fn zero_bytes_is_empty() {
    let err = parse("a.txt", b"", &Limits::default()).unwrap_err();
    assert_eq!(err, ParseError::Empty { format: None });
    assert_eq!(err.to_string(), "the file is empty (0 bytes)");
    assert_eq!(
        parse("a.txt", b" \n\t", &Limits::default()).unwrap_err(),
        ParseError::Empty {
            format: Some("text")
        }
    );
}

#[test]
fn binary_named_txt_and_bad_utf8() {
    let err = parse("notes.txt", b"MZ\x90\0\x03\0\0\0", &Limits::default()).unwrap_err();
    assert!(
        matches!(err, ParseError::Binary { ref extension } if extension == "txt"),
        "{err:?}"
    );
    assert_eq!(
        parse("x.md", b"ok \xC3\x28", &Limits::default()).unwrap_err(),
        ParseError::NotUtf8 { offset: 3 }
    );
}

#[test]
fn unsupported_and_too_large() {
    assert!(matches!(
        parse("setup.exe", b"MZ", &Limits::default()),
        Err(ParseError::Unsupported { .. })
    ));
    let err = parse("README", b"hi", &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("no extension"), "{err}");
    let limits = Limits {
        max_bytes: 4,
        ..Limits::default()
    };
    assert_eq!(
        parse("a.txt", b"hello", &limits).unwrap_err(),
        ParseError::TooLarge { size: 5, limit: 4 }
    );
}

#[test]
fn supported_list_follows_features() {
    let list = supported_extensions();
    assert!(list.contains(&"txt") && list.contains(&"html") && list.contains(&"rtf"));
    assert_eq!(list.contains(&"pdf"), cfg!(feature = "pdf"));
    assert_eq!(list.contains(&"docx"), cfg!(feature = "office"));
    assert!(is_supported("Notes.MD") && is_supported("dir/x.tsx"));
    assert!(!is_supported("movie.mp4") && !is_supported("noext"));
    assert_eq!(is_supported("a.PDF"), cfg!(feature = "pdf"));
    if !cfg!(feature = "pdf") {
        assert!(matches!(
            parse("a.pdf", b"%PDF-1.4", &Limits::default()),
            Err(ParseError::Unsupported { .. })
        ));
    }
}

#[test]
fn panics_become_panicked() {
    let err =
        run_guarded_for_test(Duration::from_secs(10), || panic!("boom in parser")).unwrap_err();
    assert!(
        matches!(err, ParseError::Panicked { ref reason } if reason.contains("boom in parser")),
        "{err:?}"
    );
}

#[test]
fn overrunning_parser_is_abandoned() {
    let err = run_guarded_for_test(Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_secs(3));
        Err(ParseError::NoTextLayer)
    })
    .unwrap_err();
    assert!(matches!(err, ParseError::Timeout { .. }), "{err:?}");
}

#[test]
fn deadline_is_checked_inside_parsers() {
    let html: String = (0..20_000)
        .map(|i| format!("<p>paragraph {i}</p>"))
        .collect();
    let limits = Limits {
        timeout: Duration::ZERO,
        ..Limits::default()
    };
    assert!(matches!(
        parse("big.html", html.as_bytes(), &limits),
        Err(ParseError::Timeout { .. })
    ));
    let limits = Limits {
        timeout: Duration::from_millis(1),
        ..Limits::default()
    };
    let err = parse_guarded("big.html", html.into_bytes(), &limits);
    assert!(
        matches!(err, Err(ParseError::Timeout { .. }) | Ok(_)),
        "{err:?}"
    );
}

#[cfg(feature = "pdf")]
mod pdf {
    use super::*;
    use common::{parse_as, parse_path, Dir};
    use lightrag_parsers::samples;

    #[test]
    fn encrypted_pdf() {
        let dir = Dir::new();
        let path = dir.path("secret.pdf");
        samples::write_encrypted_pdf(&path).unwrap();
        let err = parse_path(&path).unwrap_err();
        assert_eq!(err, ParseError::Encrypted { format: "pdf" });
        assert!(err.to_string().starts_with("the PDF is encrypted"), "{err}");
    }

    #[test]
    fn scanned_pdf_has_no_text_layer() {
        let dir = Dir::new();
        let path = dir.path("scan.pdf");
        samples::write_scanned_pdf(&path, 2).unwrap();
        let err = parse_path(&path).unwrap_err();
        assert_eq!(err, ParseError::NoTextLayer);
        assert!(err.to_string().contains("OCR is not supported"));
    }

    #[test]
    fn truncated_pdf_fails_cleanly() {
        let dir = Dir::new();
        let path = dir.path("full.pdf");
        samples::write_pdf(&path, &[&["Some text here"], &["More text"]]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for cut in [20, bytes.len() / 3, bytes.len() / 2, bytes.len() - 30] {
            let result = parse_guarded("cut.pdf", bytes[..cut].to_vec(), &Limits::default());
            match result {
                Err(
                    ParseError::Corrupt { format: "pdf", .. }
                    | ParseError::NoTextLayer
                    | ParseError::Panicked { .. },
                ) => {}
                // lopdf can rebuild a lost xref table; then the surviving pages are returned.
                Ok(parsed) => assert!(parsed.text.starts_with("[page ")),
                Err(other) => panic!("cut at {cut}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(
                "garbage.pdf",
                b"%PDF-1.7\nnot really a pdf",
                &Limits::default()
            ),
            Err(ParseError::Corrupt { format: "pdf", .. })
        ));
    }

    #[test]
    fn pdf_flate_bomb_fails_fast() {
        let dir = Dir::new();
        let path = dir.path("bomb.pdf");
        samples::write_flate_bomb_pdf(&path, 600 * 1024 * 1024).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 2 * 1024 * 1024);
        let started = std::time::Instant::now();
        let err = parse_path(&path).unwrap_err();
        assert_eq!(
            err,
            ParseError::PdfBomb {
                limit: 512 * 1024 * 1024
            }
        );
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(
            err.to_string(),
            "the PDF's compressed streams unpack to more than 536870912 bytes; \
             refusing it as a possible decompression bomb"
        );
    }

    #[test]
    fn pdf_within_the_unpacked_limit_still_parses() {
        let dir = Dir::new();
        // Deflated page content that unpacks to 2 MiB: loaded, measured, then found empty.
        let small = dir.path("small-bomb.pdf");
        samples::write_flate_bomb_pdf(&small, 2 * 1024 * 1024).unwrap();
        assert_eq!(parse_path(&small).unwrap_err(), ParseError::NoTextLayer);
        let tight = Limits {
            max_unpacked_bytes: 1024 * 1024,
            ..Limits::default()
        };
        assert_eq!(
            parse_as(&small, "small-bomb.pdf", &tight).unwrap_err(),
            ParseError::PdfBomb { limit: 1024 * 1024 }
        );
        let path = dir.path("report.pdf");
        samples::write_pdf(&path, &[&["First page"], &["Second page"], &["Third page"]]).unwrap();
        let parsed = parse_as(&path, "report.pdf", &tight).unwrap();
        assert_eq!(parsed.units, 3);
        assert!(
            parsed.text.contains("[page 3]\nThird page"),
            "{}",
            parsed.text
        );
    }

    #[test]
    fn pdf_named_docx_and_text_named_pdf() {
        let dir = Dir::new();
        let path = dir.path("real.pdf");
        samples::write_pdf(&path, &[&["x"]]).unwrap();
        let err = parse_as(&path, "letter.docx", &Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::ContentMismatch {
                    actual: "a PDF",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the file is named .docx but its content is a PDF"
        );
        let err = parse_as(&path, "notes.txt", &Limits::default()).unwrap_err();
        assert!(matches!(err, ParseError::ContentMismatch { .. }), "{err:?}");
        assert!(matches!(
            parse("fake.pdf", b"hello", &Limits::default()),
            Err(ParseError::Corrupt { .. })
        ));
    }
}

#[cfg(feature = "office")]
mod office {
    use super::*;
    use common::{parse_as, parse_path, Dir};
    use lightrag_parsers::samples;

    #[test]
    fn zip_named_pdf_and_docx_named_xlsx() {
        let dir = Dir::new();
        let path = dir.path("a.docx");
        samples::write_docx(&path, "H", &["p"], &[]).unwrap();
        if cfg!(feature = "pdf") {
            let err = parse_as(&path, "a.pdf", &Limits::default()).unwrap_err();
            assert!(
                matches!(
                    err,
                    ParseError::ContentMismatch {
                        actual: "a ZIP archive",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        let err = parse_as(&path, "a.xlsx", &Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::ContentMismatch {
                    actual: "a DOCX document",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = parse_as(&path, "a.epub", &Limits::default()).unwrap_err();
        assert!(matches!(err, ParseError::ContentMismatch { .. }), "{err:?}");
        assert!(matches!(
            parse("b.docx", b"just text", &Limits::default()),
            Err(ParseError::Corrupt { .. })
        ));
    }

    #[test]
    fn zip_bomb_fails_fast() {
        let dir = Dir::new();
        let path = dir.path("bomb.docx");
        samples::write_zip_bomb_docx(&path, 600 * 1024 * 1024).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 2 * 1024 * 1024);
        let err = parse_path(&path).unwrap_err();
        assert_eq!(
            err,
            ParseError::ArchiveBomb {
                limit: 512 * 1024 * 1024
            }
        );
        assert!(err.to_string().contains("unpacks to more than"), "{err}");
    }

    #[test]
    fn zip_bomb_with_lying_sizes_fails_fast() {
        let dir = Dir::new();
        let path = dir.path("liar.docx");
        samples::write_zip_bomb_docx(&path, 8 * 1024 * 1024).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        shrink_declared_sizes(&mut bytes, b"word/document.xml");
        let limits = Limits {
            max_unpacked_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let err = parse_guarded("liar.docx", bytes, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::ArchiveBomb { .. } | ParseError::Corrupt { .. }
            ),
            "{err:?}"
        );
    }

    /// Rewrites the uncompressed size of one entry to 100 bytes in its local and central headers.
    fn shrink_declared_sizes(bytes: &mut [u8], name: &[u8]) {
        let mut i = 0;
        while i + 46 < bytes.len() {
            let local = bytes[i..].starts_with(b"PK\x03\x04");
            let central = bytes[i..].starts_with(b"PK\x01\x02");
            let (size_at, name_at) = if local {
                (22, 30)
            } else if central {
                (24, 46)
            } else {
                (0, 0)
            };
            if (local || central) && bytes[i + name_at..].starts_with(name) {
                bytes[i + size_at..i + size_at + 4].copy_from_slice(&100u32.to_le_bytes());
            }
            i += 1;
        }
    }

    #[test]
    fn too_many_entries() {
        let dir = Dir::new();
        let path = dir.path("a.docx");
        samples::write_docx(&path, "H", &["p"], &[]).unwrap();
        let limits = Limits {
            max_archive_entries: 3,
            ..Limits::default()
        };
        let err = parse_as(&path, "a.docx", &limits).unwrap_err();
        assert!(
            matches!(err, ParseError::TooManyEntries { count: 5, limit: 3 }),
            "{err:?}"
        );
    }

    #[test]
    fn docx_without_text_is_empty() {
        let dir = Dir::new();
        let path = dir.path("blank.docx");
        samples::write_docx(&path, "", &[], &[]).unwrap();
        let err = parse_path(&path).unwrap_err();
        assert_eq!(
            err,
            ParseError::Empty {
                format: Some("docx")
            }
        );
        assert_eq!(err.to_string(), "the DOCX file contains no text to index");
    }

    #[test]
    fn truncated_docx_is_corrupt() {
        let dir = Dir::new();
        let path = dir.path("a.docx");
        samples::write_docx(&path, "Heading", &["text"], &[]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let err = parse_guarded(
            "a.docx",
            bytes[..bytes.len() / 2].to_vec(),
            &Limits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ParseError::Corrupt { format: "docx", .. }),
            "{err:?}"
        );
    }
}
