"""Boilerplate-line rules: which lines they drop, which they leave to the model, and how the Detector applies them."""

from __future__ import annotations

import pytest

from bpdetect.boilerplate import PROMO_MAX_WORDS, boilerplate_rule, drop_boilerplate, rule_at
from bpdetect.extract import Detector
from bpdetect.segment import segment_text


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Advertisement", "ad label"),
        ("ADVERTISEMENT", "ad label"),
        ("- Advertisement -", "ad label"),
        ("### Advertisement", "ad label"),
        ("Publicité", "ad label"),
        ("Publicidade", "ad label"),
        ("Anzeige", "ad label"),
        ("Sponsored content", "ad label"),
        ("Continua após a publicidade", "ad label"),
        ("Story continues below advertisement", "ad label"),
        ("Advertisement - scroll to continue", "ad label"),
        ("Skip to content", "skip link"),
        ("[Skip to main content](#main)", "skip link"),
        ("Zum Inhalt springen", "skip link"),
        ("Related Posts", "widget header"),
        ("## You Missed", "widget header"),
        ("You may also like:", "widget header"),
        ("Leave a Reply Cancel reply", "widget header"),
        ("Source link", "widget header"),
        ("Explore more on these topics", "widget header"),
        ("Artigos relacionados", "widget header"),
        ("Share this:", "share label"),
        ("Jump to Recipe", "recipe button"),
        ("Imprimer la recette", "recipe button"),
        ("También te puede gustar", "widget header"),
        ("Te puede interesar: La Vega Alta pierde habitantes", "read-also promo"),
        ("Share on Facebook", "share label"),
        ("READ MORE: Texas police arrest protesters in Austin", "read-also promo"),
        ("Leia também: Câmara aprova reajuste da tarifa de ônibus", "read-also promo"),
        ("Lire aussi : la passerelle rouvrira en juin", "read-also promo"),
        (">> Related: The Best VPN Bundles", "read-also promo"),
        ("Photo: Jane Doe", "photo credit"),
        ("(Credit: Reuters)", "photo credit"),
        ("Foto: Katrin Weidlich", "photo credit"),
        ("Get the week's best stories delivered straight to your inbox.", "pitch"),
        ("SIGN UP FOR OUR NEWSLETTER", "pitch"),
        ("This post may contain affiliate links. If you buy through them I may earn a small commission.", "pitch"),
        ("Did you make this recipe? Tag @somebaker on Instagram!", "pitch"),
        ("Thanks for reading The Weekly! Subscribe for free to receive new posts.", "pitch"),
        ("Vous avez aimé cet article ? Abonnez-vous dès 1 € le premier mois.", "pitch"),
        ("Related", "widget header"),
        ("Partager", "share label"),
        ("Want to save this recipe?", "recipe button"),
        ("WATCH: Parents rush to the school after the crash", "read-also promo"),
        # every pitch phrase family, each with its trigger word (a phrase without one would never be tried)
        ("By submitting your email, you agree to our Terms of Use.", "pitch"),
        ("By submitting this form, you agree to receive emails from us. You can unsubscribe at any time.", "pitch"),
        ("By signing up, you consent to our privacy policy.", "pitch"),
        ("Enter your email below and I'll send it straight to your inbox.", "pitch"),
        ("If you value reporting like this, please consider making a donation.", "pitch"),
        ("Please consider supporting our journalism with a monthly gift.", "pitch"),
        ("Support independent journalism: become a member today.", "pitch"),
        ("Donate now", "pitch"),
        ("Have a photo of breaking news? Send it to us with a short description.", "pitch"),
        ("Send us your news tips at tips@example.com", "pitch"),
        ("Join our mailing list for weekly updates.", "pitch"),
        ("Follow us on Instagram for more recipes.", "pitch"),
        ("When you buy through our links, we may earn a commission.", "pitch"),
        ("Love this idea? Pin it for later!", "pitch"),
        ("Report this ad", "pitch"),
        ("Inscreva-se em nossa newsletter", "pitch"),
        ("Receba as notícias no seu WhatsApp", "pitch"),
        ("Suscríbete a nuestro boletín", "pitch"),
        ("Newsletter abonnieren", "pitch"),
        ("Meld je aan voor onze nieuwsbrief", "pitch"),
        ("Inscrivez-vous à notre newsletter", "pitch"),
        ("© 2024 The Valley Courier. All rights reserved.", "copyright"),
        ("Copyright © 2024 The Crooked Spoon · All rights reserved.", "copyright"),
        ("Copyright 2024 KTLQ. All rights reserved.", "copyright"),
        ("© Riproduzione riservata", "copyright"),
        ("Todos los derechos reservados.", "copyright"),
        ("Tags: budget, schools, council", "tags line"),
        ("Mots-clés : automne, noisettes, poires", "tags line"),
        ("Kategorie: Vereinsleben, Konzerte", "tags line"),
        ("Filed under: Local News", "tags line"),
        ("Publicado em 09/04/2024 às 16h32 | Atualizado em 10/04/2024 às 08h05", "date line"),
        ("Updated: March 3, 2024 4:12 pm", "date line"),
        ("Published on 12 de marzo de 2024", "date line"),
        ("Last updated on 3 May 2024", "date line"),
        ("Enter your email", "form label"),
        ("Subscribe", "form label"),
        ("Search …", "form label"),
        ("Name *", "form label"),
        ("First name", "form label"),
        ("you@example.com", "form label"),
        ("Annons", "ad label"),
        ("Table of Contents", "widget header"),
        ("Inhaltsverzeichnis", "widget header"),
        ("Was this article helpful?", "widget header"),
        ("Check price on Amazon", "shop button"),
        ("See today's price at Greenhouse Direct", "shop button"),
        ("Zum Angebot*", "shop button"),
        ("Voir le prix", "shop button"),
        ("Pin this image", "share label"),
        ("Épinglez-moi !", "share label"),
        ("Guárdalo en Pinterest", "share label"),
        ("Deel dit artikel", "share label"),
        ("Copier le lien", "share label"),
        ("Copy", "share label"),
        ("Copy code", "share label"),
        ("Copied!", "share label"),
        ("Zobacz również", "widget header"),
        ("Like what you're reading?", "widget header"),
        ("Enjoying this post?", "widget header"),
        ("Du willst keine Rezepte mehr verpassen?", "widget header"),
        ("Keinen Beitrag mehr verpassen!", "widget header"),
        ("Czytaj także", "widget header"),
        ("Najczęściej czytane", "widget header"),
        ("Gerelateerde artikelen", "widget header"),
        ("Czytaj także: Radni zdecydowali o nowym parkingu przy dworcu", "read-also promo"),
        ("Tagi: szkoła, hala sportowa, rada miejska", "tags line"),
        ("Valora esta receta", "recipe button"),
        ("FOR IMMEDIATE RELEASE", "release label"),
        ("Download the free KXRW 6 app for breaking news alerts.", "pitch"),
        ("The case folds flat but not inward, so it is wider than most. (Photo: Priya Natarajan)", "captioned credit"),
        ("Il gol del 2-1 di Sartori al 78' (foto Ravelli)", "captioned credit"),
        ("Das Velora T7 auf unserer Testrunde am Ammerbach. Foto: Jonas Wehrle", "captioned credit"),
        ("Photo prise de nuit avec le capteur principal. © Labo Mobile", "captioned credit"),
        ("Prep Time: 15 minutes", "recipe field"),
        ("Servings: 10 slices", "recipe field"),
        ("Tiempo de preparación: 20 minutos", "recipe field"),
        ("Serves 4", "recipe field"),
    ],
)
def test_boilerplate_lines_are_named(line: str, rule: str) -> None:
    assert boilerplate_rule(line) == rule


@pytest.mark.parametrize(
    "line",
    [
        "Advertising revenue fell five percent in the third quarter.",
        "The advertisement ran for two weeks before it was pulled.",
        "Share prices rose sharply on Monday.",
        "Related work on this topic is discussed below.",
        "Comments",  # too generic alone: left to the model
        "Read more about the council's plans in our earlier report.",
        "print()",
        "",
        # An article paragraph that opens with a promo label is not a promo.
        "RELATED: GOProud's 2012 endorsees did not fare very well. Aside from the incumbents, most of the candidates "
        "it backed lost their races by wide margins, and the group is now reviewing its approach for the next cycle.",
        "Skip to content" + " and more" * 20,
        "The company's newsletter business grew 40 percent last year, and subscribers now pay eight dollars a month.",
        "Thanks for reading, stay safe, and take care of one another.",  # an author's sign-off
        "Photo: the bridge at dawn, seen from the east bank, where hundreds gathered on Saturday morning.",  # a caption
        "Credit cards: what to know before you apply",
        "Print the recipe card on thick paper so it survives the kitchen.",
        "Streamers earn money when viewers buy games through affiliate programs run by the big stores.",
        "Related stories from the archive are linked at the end of this series.",
        "Watch the full council meeting on the city's website.",  # no label and colon: a sentence
        "Copyright law changed in 2019 for every member state.",
        "Copyright 1970, 194 pages, softbound.",  # a catalogue entry
        "Copyright 1936 and 1939, small format hardbound",
        "The video was posted on July 19. You can watch it below.",
        "posted on July 19. You can watch the video below.",
        "Video: 4K/30p, Full HD 120p",  # a camera's specification, not a promo
        "Copyright holders can ask platforms to remove the clips.",
        "Tags are attached to each bird's leg before release.",
        "Updated 2024 figures show a five percent rise in rents across the county.",
        "Published in 1962, the novel sold two million copies.",
        "Officials urged residents to consider donating blood at Saturday's drive.",
        "Donations to the food bank doubled after the flood.",
        "Subscribers to the service will pay more from June.",
        "The categories were announced on Monday: best film, best actor and best score.",
        "Search and rescue teams found the hikers on Sunday.",
        "name",  # an API parameter in a docs page
        "Email:",
        "The museum holds 200 photos (most by Ansel Adams).",
        "The photo was taken in 1990 by his father (see image 3)",
        "Servings of fruit and vegetables rose in every age group.",
        "Yield curves inverted in March.",
        "Schwierigkeit: mittel, Trittsicherheit erforderlich",  # a hiking route's fact, not a recipe card's
        "2. On your phone, download the Corvid Photos app from your app store.",  # a how-to's step
        "Check the price list before you book.",
        "Buy-to-let landlords face a new tax from April.",
        "Download speeds doubled after the upgrade, the company said.",
        "Contents of the box: the charger, a cable and a manual.",
        "Copy the file to the server before you restart it.",
        "Copy editors checked every name twice.",
        "COPY . .",  # a Dockerfile instruction
        "COPY requirements.txt .",
        "image: registry.example.com/api:2.4.1",  # docker-compose, not a photo credit
        "image: nginx:1.25",
        "Enjoying this post? Then you will love the next one, where we build the frame from scratch and paint it.",
        "I like what you're reading, said the teacher, and the class laughed.",
        "Zobacz również, jak radni głosowali w zeszłym roku, gdy sprawa wróciła na sesję po wakacjach i sporze.",
        # a caption-length sentence whose credit is not at its end
        "Photo editors at the paper chose the image from 300 frames shot that night.",
    ],
)
def test_content_lines_are_left_to_the_model(line: str) -> None:
    assert boilerplate_rule(line) is None


def test_pitches_can_be_left_out() -> None:
    line = "Get the week's best stories delivered straight to your inbox."
    assert boilerplate_rule(line, text_rules=False) is None
    doc = segment_text(line + "\n\nAdvertisement\n")
    assert drop_boilerplate(doc.blocks, [True, True], text_rules=False) == [True, False]
    assert drop_boilerplate(doc.blocks, [True, True]) == [False, False]


def test_a_promo_is_a_title_not_a_paragraph() -> None:
    title = "Read more: " + " ".join(["word"] * (PROMO_MAX_WORDS - 2))
    assert boilerplate_rule(title) == "read-also promo"
    assert boilerplate_rule(title + " more words here") is None


def test_only_kept_blocks_are_dropped() -> None:
    doc = segment_text("Advertisement\n\nThe bridge reopened on Monday after two years of work.\n\nAdvertisement\n")
    keep = drop_boilerplate(doc.blocks, [True, True, False])
    assert keep == [False, True, False]


DUMP = (
    "The new footbridge over the river opened on Saturday morning after eighteen months of construction work.\n\n"
    "Advertisement\n\n"
    "Hundreds of residents crossed it in the first hour, and the mayor thanked the engineers for finishing early.\n\n"
    "READ MORE: Council approves the new bus timetable for the summer\n\n"
    "The bridge links the old town with the station and cuts the walk to the trains by ten minutes.\n"
)


def test_the_detector_applies_the_rules_and_can_leave_them_out() -> None:
    on = Detector.default().extract(DUMP, input="text", threshold=0.0)
    off = Detector(boilerplate_rules=False).extract(DUMP, input="text", threshold=0.0)
    assert all(sb.is_content for sb in off.blocks)  # threshold 0: the model keeps everything
    dropped = [sb.block.text for sb in on.blocks if not sb.is_content]
    assert dropped == ["Advertisement", "READ MORE: Council approves the new bus timetable for the summer"]
    assert "Advertisement" not in on.text and "Advertisement" in off.text
    # Scores are the model's either way; only the decision differs.
    assert [sb.score for sb in on.blocks] == [sb.score for sb in off.blocks]


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Check price on Amazon", "shop button"),
        ("The case folds flat but not inward. (Photo: Priya Natarajan)", "captioned credit"),
        ("Prep Time: 15 minutes", "recipe field"),
        ("Get the week's best stories delivered straight to your inbox.", "pitch"),
    ],
)
def test_text_only_rules_are_left_out_for_html(line: str, rule: str) -> None:
    from bpdetect.boilerplate import TEXT_ONLY_RULES

    assert rule in TEXT_ONLY_RULES
    assert boilerplate_rule(line) == rule
    assert boilerplate_rule(line, text_rules=False) is None


def test_pitches_are_dropped_from_text_input_only() -> None:
    pitch = "Get the week's best stories delivered straight to your inbox every Friday morning."
    body = "<p>The new footbridge over the river opened on Saturday after eighteen months of construction work.</p>"
    html = f"<html><body><article>{body}<p>{pitch}</p>{body}</article></body></html>"
    on_html = Detector.default().extract(html, input="html", threshold=0.0)
    assert pitch in on_html.text  # HTML: the model decides (it sees the box a pitch sits in)
    on_text = Detector.default().extract(f"{pitch}\n\nThe bridge opened on Saturday.\n", input="text", threshold=0.0)
    assert pitch not in on_text.text


def test_json_records_name_the_rule_that_dropped_a_block() -> None:
    from bpdetect.formats import to_record

    rec = to_record(Detector.default().extract(DUMP, input="text", threshold=0.0))
    rules = {b["text"]: b.get("rule") for b in rec["blocks"]}
    assert rules["Advertisement"] == "ad label"
    assert rules["READ MORE: Council approves the new bus timetable for the summer"] == "read-also promo"
    assert all(b["content"] for b in rec["blocks"] if "rule" not in b)


def test_a_byline_cut_in_two_loses_its_name_line() -> None:
    doc = segment_text("Posted on\nJanuary 22, 2024\nby\nJohn\n0 views\nJohn Smith wrote the first report.\n")
    names = [rule_at(doc.blocks, i) for i in range(len(doc.blocks))]
    assert names == [None, None, None, "byline name", None, None]
    assert drop_boilerplate(doc.blocks, [True] * 6) == [True, True, True, False, True, True]
    # Not after another line, and not a sentence.
    assert rule_at(segment_text("Intro\nJohn\n").blocks, 1) is None
    assert rule_at(segment_text("by\nThe end.\n").blocks, 1) is None
