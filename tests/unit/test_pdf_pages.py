"""The audit pack's pages: whatever a part's size (Letter, landscape, A3), the merged PDF is A4 portrait."""
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from adapters.pdf import merge_pdfs


def pdf(path: Path, *sizes: tuple[float, float], rotate: int = 0) -> Path:
    writer = PdfWriter()
    for width, height in sizes:
        page = writer.add_blank_page(width=width, height=height)
        if rotate:
            page.rotate(rotate)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def test_every_page_of_a_merged_pack_is_a4_portrait_and_each_part_keeps_its_bookmark(tmp_path):
    parts = [("Lettre US", pdf(tmp_path / "letter.pdf", (612, 792))),
             ("Tableau en paysage", pdf(tmp_path / "paysage.pdf", (842, 595), (792, 612))),
             ("Page tournée", pdf(tmp_path / "tournee.pdf", (595.28, 841.89), rotate=90)),
             ("A4", pdf(tmp_path / "a4.pdf", (595.28, 841.89)))]

    reader = PdfReader(merge_pdfs(parts, tmp_path / "pack.pdf", a4_portrait=True))

    assert [(round(float(p.mediabox.width)), round(float(p.mediabox.height)), p.get("/Rotate", 0))
            for p in reader.pages] == [(595, 842, 0)] * 5
    assert [(o.title, reader.get_destination_page_number(o)) for o in reader.outline] == [
        ("Lettre US", 0), ("Tableau en paysage", 1), ("Page tournée", 3), ("A4", 4)]
