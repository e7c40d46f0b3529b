"""The one catalogue of visible text, in Bahasa Indonesia (the default) and English.

Every string the app, the maps and the shareable HTML export show lives here, as
``key: (Bahasa Indonesia, English)`` side by side so that neither language can lose a string, and
:func:`t` looks it up. Placeholders use ``str.format`` names and are filled in by :func:`t`; both
languages of a key must use the same names (:func:`problems` checks, and a unit test runs it). Labels of
intervention types, actors and IKRN categories come from the taxonomy file, not from here.

Keys are namespaced by who shows them, so that two tables can never claim the same key:

- bare keys (``"save"``, ``"page_catat"``): the Streamlit app's pages, called as ``ctx.t("save")``;
- ``map.*``: layer names and legend text drawn by :mod:`geo_p4gn.render.maps`;
- ``metric.*``: the choropleth metrics of :data:`geo_p4gn.render.maps.METRICS`;
- ``export.*``: the page text of the shareable HTML map (:mod:`geo_p4gn.render.html`);
- ``streamlit.*``: Streamlit's own built-in texts (its English is the second text), which the app's page
  rewrites in the chosen language (:mod:`geo_p4gn_app.page`);
- ``reject.*``: the importer's reject reasons and the rejects file's columns (rendered by
  :mod:`geo_p4gn.importers.reasons`);
- ``review.*``: the duplicates review page (``app_pages/duplikat.py``);
- ``ikrn.*``: the IKRN history page (``app_pages/ikrn.py``).

This module is part of the core: it imports nothing from the project and never Streamlit. Which
language a person sees (session, address) is decided by the app (``geo_p4gn_app.session``).

Examples
--------
>>> t("save", "en")
'Save'
>>> t("saved_in", "id", kelurahan="Kapuk")
'Tersimpan. Lokasi: Kelurahan Kapuk.'
>>> t("export.records_note", "en", n=3)
'Computed from 3 intervention records (aggregated; no record is included one by one).'
>>> t("map.sites", "xx")  # an unknown language falls back to Bahasa Indonesia
'Situs'
"""

from __future__ import annotations

import string
from collections.abc import Mapping

#: The languages, the default first.
LANGS = ("id", "en")
LANG_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
#: The namespaces of :data:`CATALOGUE` (a bare key has none: the app's own strings).
NAMESPACES = ("map", "metric", "export", "reject", "streamlit", "lapangan", "image", "report", "review", "ikrn")

# -- the app (bare keys) ---------------------------------------------------------------------------------
_APP: dict[str, tuple[str, str]] = {
    # app frame
    "app_title": ("Peta intervensi P4GN DKI Jakarta", "P4GN intervention map, DKI Jakarta"),
    "language": ("Bahasa", "Language"),
    "page_catat": ("Catat intervensi", "Record an intervention"),
    "page_cakupan": ("Peta cakupan", "Coverage map"),
    "page_unggah": ("Unggah data", "Upload data"),
    "page_situs": ("Situs", "Sites"),
    "page_ekspor": ("Ekspor", "Export"),
    "page_admin": ("Administrasi", "Administration"),
    "single_user": (("Mode pengguna tunggal: belum ada login (OIDC) atau akun lokal yang diatur, jadi aplikasi "
                    "berjalan untuk satu orang di laptop ini dengan semua hak akses."),
                    ("Single-user mode: no sign-in (OIDC) or local accounts are configured, so the app runs for "
                    "one person on this laptop with every permission.")),
    "single_user_short": ("Mode pengguna tunggal", "Single-user mode"),
    "signed_in_as": ("Masuk sebagai {name} ({role})", "Signed in as {name} ({role})"),
    "sign_in": ("Masuk", "Sign in"),
    "sign_out": ("Keluar", "Sign out"),
    "sign_in_title": ("Masuk ke aplikasi", "Sign in"),
    "sign_in_oidc": ("Masuk dengan akun instansi", "Sign in with the agency account"),
    "user_name": ("Nama pengguna", "User name"),
    "password": ("Kata sandi", "Password"),
    "sign_in_failed": ("Gagal masuk", "Sign-in failed"),
    "no_role": ("Akun ini belum punya peran di aplikasi. Minta administrator menambahkan Anda.",
                "This account has no role in the app yet. Ask an administrator to add you."),
    "no_pages": ("Peran Anda tidak punya halaman di aplikasi ini.", "Your role has no page in this app."),
    "role_petugas": ("petugas lapangan", "field team"),
    "role_perencana": ("perencana", "planner"),
    "role_pimpinan": ("pimpinan", "manager"),
    "role_admin": ("administrator", "administrator"),
    "error_prefix": ("Tidak dapat diproses", "Could not be processed"),
    "denied": ("Tidak diizinkan", "Not allowed"),
    "store_error": ("Penyimpanan data tidak dapat dibuka", "The data store cannot be opened"),
    # the map
    "map_hint_catat": ("Ketuk peta untuk menaruh titik intervensi, atau pilih situs di bawah.",
                       "Tap the map to place the intervention, or choose a site below."),
    "locate_me": ("Lokasi saya", "My location"),
    "locate_failed": ("Lokasi tidak tersedia", "Location not available"),
    "locate_refused": (("Lokasi tidak tersedia: izinkan akses lokasi untuk situs ini di pengaturan peramban dan "
                        "nyalakan GPS, atau ketuk tempatnya di peta."),
                       ("Location not available: allow location access for this site in the browser settings and "
                        "turn on GPS, or tap the place on the map.")),
    "layer_kelurahan": ("Kelurahan", "Kelurahan"),
    "layer_kota": ("Kota", "Kota"),
    "layer_my_entries": ("Entri saya ({n})", "My entries ({n})"),
    "layer_points": ("Intervensi ({n})", "Interventions ({n})"),
    "approximate": ("lokasi perkiraan", "approximate location"),
    # Catat intervensi
    "catat_title": ("Catat intervensi", "Record an intervention"),
    "site_choice": ("Situs (opsional)", "Site (optional)"),
    "site_none": ("- tanpa situs -", "- no site -"),
    "no_sites": (("Daftar situs masih kosong. Tambahkan situs di halaman Situs, atau isi daftar awal dengan "
                 "perintah geo-p4gn init."),
                 ("The site registry is empty. Add sites on the Sites page, or load the initial list with the "
                 "command geo-p4gn init.")),
    "point_none": ("Belum ada titik. Ketuk peta atau pilih situs.", "No point yet. Tap the map or choose a site."),
    "point_in": ("Titik di Kelurahan {kelurahan}, Kecamatan {kecamatan}, {kota}.",
                 "Point in Kelurahan {kelurahan}, Kecamatan {kecamatan}, {kota}."),
    "point_gap": ("(titik di celah antar batas, {m} m dari batas terdekat)",
                  "(point in a gap between boundaries, {m} m from the nearest one)"),
    "point_outside": (("Titik ini di luar DKI Jakarta atau di laut, jadi tidak dapat dicatat. Pilih titik di "
                      "daratan Jakarta (termasuk pulau-pulau Kepulauan Seribu)."),
                      ("This point is outside DKI Jakarta or in the sea, so it cannot be recorded. Choose a "
                      "point on land in Jakarta (the Kepulauan Seribu islands included).")),
    "point_swapped": ("Koordinat tampak tertukar (lintang dan bujur). Periksa titiknya.",
                      "The coordinates look swapped (latitude and longitude). Check the point."),
    "point_at_site": ("Di situs: {site}", "At site: {site}"),
    "coords": ("Koordinat", "Coordinates"),
    "f_date": ("Tanggal", "Date"),
    "f_type": ("Jenis intervensi", "Intervention type"),
    "f_actor": ("Aktor (pentahelix)", "Actor (penta-helix)"),
    "f_org": ("Organisasi pelaksana", "Organisation"),
    "f_org_pick": ("Organisasi yang pernah dipakai (opsional)", "An organisation used before (optional)"),
    "f_org_pick_help": ("Memilih nama di sini mengisi kotak Organisasi pelaksana di bawah.",
                        "Picking a name here fills the Organisation box below."),
    "f_org_help": ("Ketik nama organisasinya: yang diketik di sini yang disimpan.",
                   "Type the organisation's name: what is typed here is what is stored."),
    "f_participants": ("Jumlah peserta", "Participants"),
    "f_notes": ("Catatan", "Notes"),
    "f_notes_help": ("Jangan menulis nama warga, NIK, atau nomor telepon.",
                     "Do not write residents' names, ID numbers or phone numbers."),
    "choose": ("Pilih...", "Choose..."),
    "save": ("Simpan", "Save"),
    "saved_in": ("Tersimpan. Lokasi: Kelurahan {kelurahan}.", "Saved. Location: Kelurahan {kelurahan}."),
    "saved_already": ("Catatan ini sudah tersimpan (tidak disimpan dua kali).",
                      "This record is already saved (it was not stored twice)."),
    "saved_id": ("Nomor catatan", "Record id"),
    "new_entry": ("Catat intervensi baru", "Record a new intervention"),
    "need_point": ("Tentukan lokasi dulu: ketuk peta atau pilih situs.",
                   "Set the location first: tap the map or choose a site."),
    "need_fields": ("Lengkapi: {fields}.", "Please fill in: {fields}."),
    "conflict_id": ("Nomor catatan ini sudah dipakai untuk data lain. Mulai catatan baru.",
                    "This record id is already used for other data. Start a new record."),
    "my_recent": ("Entri saya ({days} hari terakhir)", "My entries (last {days} days)"),
    "my_recent_none": ("Belum ada entri dalam {days} hari terakhir.", "No entries in the last {days} days."),
    "my_recent_help": ("Perbaiki atau hapus entri", "Correct or delete an entry"),
    "edit_title": ("Perbaiki entri", "Correct the entry"),
    "edit_move": ("Pindahkan ke titik yang dipilih di peta", "Move it to the point chosen on the map"),
    "edit_save": ("Simpan perubahan", "Save changes"),
    "edit_saved": ("Perubahan tersimpan.", "Changes saved."),
    "edit_unchanged": ("Tidak ada perubahan.", "Nothing changed."),
    "delete": ("Hapus entri ini", "Delete this entry"),
    "delete_confirm": ("Ya, hapus entri ini", "Yes, delete this entry"),
    "deleted": ("Entri dihapus.", "Entry deleted."),
    "col_date": ("Tanggal", "Date"),
    "col_type": ("Jenis", "Type"),
    "col_actor": ("Aktor", "Actor"),
    "col_org": ("Organisasi", "Organisation"),
    "col_site": ("Situs", "Site"),
    "col_kelurahan": ("Kelurahan", "Kelurahan"),
    "col_participants": ("Peserta", "Participants"),
    "col_notes": ("Catatan", "Notes"),
    "col_saved_at": ("Disimpan (WIB)", "Saved (WIB)"),
    "entry_saved_at": ("disimpan {when}", "saved {when}"),
    # Peta cakupan
    "cakupan_title": ("Peta cakupan", "Coverage map"),
    "filters": ("Filter", "Filters"),
    "filters_active": ("Filter ({n} aktif)", "Filters ({n} active)"),
    "f_from": ("Dari tanggal", "From"),
    "f_to": ("Sampai tanggal", "To"),
    "f_types": ("Jenis intervensi", "Intervention types"),
    "f_actors": ("Aktor", "Actors"),
    "f_kota": ("Kota", "Kota"),
    "f_kecamatan": ("Kecamatan", "Kecamatan"),
    "f_kelurahan": ("Kelurahan", "Kelurahan"),
    "f_sites": ("Situs", "Sites"),
    "f_ikrn": ("Kategori IKRN", "IKRN category"),
    "f_all": ("semua", "all"),
    "f_reset": ("Hapus semua filter", "Clear all filters"),
    "share_link": ("Tautan tampilan ini bisa dibagikan: filter tersimpan di alamat halaman.",
                   "This view can be shared as a link: the filters are in the page address."),
    "copy_link": ("Salin tautan", "Copy link"),
    "copy_link_hint": ("Salin dengan tombol di pojok kotak alamat di bawah.",
                       "Copy it with the button in the corner of the address box below."),
    "copy_link_done": ("Tautan disalin", "Link copied"),
    "copy_link_failed": ("Salin dari bilah alamat", "Copy it from the address bar"),
    "preset_label": ("Periode:", "Period:"),
    "preset_month": ("Bulan ini", "This month"),
    "preset_quarter": ("Kuartal ini", "This quarter"),
    "preset_year": ("Tahun ini", "This year"),
    "preset_last_year": ("Tahun lalu", "Last year"),
    "filter_unknown": ("Filter di alamat ini tidak dikenali dan diabaikan: {values}. Pilih lagi di panel filter.",
                       "Filters in this address were not recognised and are ignored: {values}. Choose again "
                       "in the filter panel."),
    "filter_rule": (("Pilihan wilayah yang lebih rinci di dalam pilihan yang lebih luas mempersempitnya (Jakarta "
                     "Barat + Cengkareng = Cengkareng); pilihan di cabang berbeda dijumlahkan."),
                    ("A finer area choice inside a coarser one narrows to it (Jakarta Barat + Cengkareng = "
                     "Cengkareng); choices in different branches add up.")),
    "level": ("Tingkat wilayah", "Area level"),
    "level_kelurahan": ("Kelurahan", "Kelurahan"),
    "level_kecamatan": ("Kecamatan", "Kecamatan"),
    "level_kota": ("Kota", "Kota"),
    "metric": ("Ukuran", "Metric"),
    "records_in_view": ("{n} intervensi sesuai filter.", "{n} interventions match the filters."),
    "points_shown": ("Titik intervensi ditampilkan karena filter menyisakan {n} atau kurang.",
                     "Intervention points are shown because the filters leave {n} or fewer."),
    "points_hidden": (("Peta menampilkan ringkasan per wilayah dan situs; persempit filter (maksimal {n} "
                      "intervensi) atau perbesar peta untuk melihat titik satu per satu."),
                      ("The map shows totals per area and site; narrow the filters (at most {n} "
                      "interventions) or zoom in to see individual points.")),
    "points_zoom_toggle": ("Titik saat peta diperbesar", "Points when zoomed in"),
    "points_zoom_help": (("Saat peta diperbesar (zoom {zoom} atau lebih), tampilkan titik intervensi di area "
                         "yang terlihat jika jumlahnya {n} atau kurang. Peta memuat ulang setiap kali digeser."),
                         ("When the map is zoomed in (zoom {zoom} or more), show the intervention points in "
                         "the visible area if there are {n} or fewer. The map reloads on every pan.")),
    "points_zoom_in": (("Perbesar peta (zoom {zoom} atau lebih) atau persempit filter untuk melihat titik satu "
                       "per satu."),
                       "Zoom in (zoom {zoom} or more) or narrow the filters to see individual points."),
    "points_too_many_here": (("Lebih dari {n} intervensi di area peta ini: perbesar lagi atau persempit filter "
                             "untuk melihat titiknya."),
                             ("More than {n} interventions in this map area: zoom in further or narrow the "
                             "filters to see their points.")),
    "points_in_view": ("Titik intervensi di area peta ini: {k}.", "Intervention points in this map area: {k}."),
    "points_participants": ("{n} peserta", "{n} participants"),
    "map_click_hint": ("Ketuk wilayah atau situs di peta untuk melihat matriks jenis x aktor-nya.",
                       "Tap an area or a site on the map to see its type x actor matrix."),
    "selection": ("Pilihan", "Selection"),
    "selection_all": ("semua sesuai filter", "everything matching the filters"),
    "selection_clear": ("Kembali ke semua", "Back to all"),
    "matrix_title": ("Matriks jenis intervensi x aktor: {what}", "Intervention type x actor matrix: {what}"),
    "gaps_title": ("Daftar kesenjangan", "Gap list"),
    "gaps_none": ("Tidak ada kesenjangan pada situs sasaran dengan filter ini.",
                  "No gaps at target sites with these filters."),
    "gap_not_reached": ("belum dijangkau", "not reached"),
    "gap_missing_types": ("jenis belum lengkap", "types missing"),
    "gap_missing_actors": ("aktor belum lengkap", "actors missing"),
    "timeline_title": ("Intervensi per bulan", "Interventions per month"),
    "timeline_by": ("Menurut", "By"),
    "timeline_month": ("Bulan", "Month"),
    "compare_title": ("Dua periode dibandingkan", "Two periods compared"),
    "compare_toggle": ("Bandingkan dua periode", "Compare two periods"),
    "compare_hint": (("Per wilayah dan situs sasaran: dijangkau di kedua periode, baru dijangkau, tidak lagi "
                      "dijangkau, serta jenis dan aktor yang bertambah atau hilang. Filter selain tanggal berlaku "
                      "untuk kedua periode."),
                     ("Per area and target site: reached in both periods, newly reached, no longer reached, and "
                      "the types and actors gained or lost. Every filter but the dates applies to both periods.")),
    "compare_a": ("Periode pertama", "First period"),
    "compare_b": ("Periode kedua", "Second period"),
    "compare_map_title": ("Perubahan {a} \u2192 {b}", "Change {a} \u2192 {b}"),
    "compare_target_sites": ("Situs sasaran", "Target sites"),
    "compare_change": ("Perubahan", "Change"),
    "compare_interventions": ("Intervensi", "Interventions"),
    "compare_types_gained": ("Jenis bertambah", "Types gained"),
    "compare_types_lost": ("Jenis hilang", "Types lost"),
    "compare_actors_gained": ("Aktor bertambah", "Actors gained"),
    "compare_actors_lost": ("Aktor hilang", "Actors lost"),
    "compare_none": ("Tidak ada perubahan cakupan antara kedua periode.", "No change in coverage between the two periods."),
    "by_type": ("jenis", "type"),
    "by_actor": ("aktor", "actor"),
    "table_head": ("Tabel cakupan", "Coverage table"),
    "download_csv": ("Unduh tabel (CSV)", "Download the table (CSV)"),
    "no_records": ("Belum ada data intervensi.", "No intervention data yet."),
    "col_rank": ("No.", "No."),
    "col_gap": ("Kesenjangan", "Gap"),
    "col_level": ("Tingkat", "Level"),
    "col_name": ("Nama", "Name"),
    "col_ikrn": ("IKRN", "IKRN"),
    "col_last": ("Terakhir", "Last"),
    "col_days": ("Hari sejak", "Days since"),
    "col_interventions": ("Intervensi", "Interventions"),
    "col_types": ("Jenis", "Types"),
    "col_actors": ("Aktor", "Actors"),
    "col_missing_types": ("Jenis belum ada", "Types not yet done"),
    "col_missing_actors": ("Aktor belum ada", "Actors not yet involved"),
    "col_sites_reached": ("Situs dijangkau", "Sites reached"),
    "col_status": ("Status", "Status"),
    "col_code": ("Kode", "Code"),
    "status_covered": ("lengkap", "covered"),
    "status_reached": ("dijangkau", "reached"),
    "status_not_reached": ("belum dijangkau", "not reached"),
    "status_no_target": ("bukan sasaran", "no target"),
    "popup_interventions": ("Intervensi", "Interventions"),
    "popup_types": ("Jenis", "Types"),
    "popup_actors": ("Aktor", "Actors"),
    "popup_sites": ("Situs sasaran dijangkau", "Target sites reached"),
    "popup_last": ("Terakhir", "Last"),
    "popup_kelurahan": ("Kelurahan", "Kelurahan"),
    "none": ("-", "-"),
    # Unggah data
    "unggah_title": ("Unggah data", "Upload data"),
    "unggah_intro": (("CSV, XLSX, GeoJSON, atau ekspor KoboToolbox/ODK. Pratinjau dulu: tidak ada yang disimpan "
                     "sampai Anda menekan Impor."),
                     ("CSV, XLSX, GeoJSON or a KoboToolbox/ODK export. Preview first: nothing is stored until "
                     "you press Import.")),
    "upload_file": ("Berkas", "File"),
    "upload_limit": ("Batas: {mb} MB per berkas.", "Limit: {mb} MB per file."),
    "preview": ("Pratinjau (belum disimpan)", "Preview (nothing stored yet)"),
    "preview_rows": (("{rows} baris: {accepted} akan diterima, {rejected} ditolak, {duplicates} sudah ada, "
                     "{conflicts} bentrok."),
                     ("{rows} rows: {accepted} would be accepted, {rejected} rejected, {duplicates} already "
                     "stored, {conflicts} conflicts.")),
    "preview_stored": (("{n} baris sama dengan data yang sudah tersimpan (berkas ini pernah diimpor?): tidak akan "
                        "disimpan lagi."),
                       ("{n} rows match records already stored (was this file imported before?): they will not "
                        "be stored again.")),
    "columns_used": ("Kolom yang dipakai", "Columns used"),
    "columns_ignored": ("Kolom yang diabaikan: {cols}", "Columns ignored: {cols}"),
    "rejects_title": ("Baris yang ditolak", "Rejected rows"),
    "rejects_download": ("Unduh laporan penolakan (CSV) untuk diperbaiki dan diunggah ulang",
                         "Download the rejects report (CSV) to fix and upload again"),
    "do_import": ("Impor {n} baris", "Import {n} rows"),
    "importing": ("Mengimpor...", "Importing..."),
    "stage_read": ("membaca", "reading"),
    "stage_validate": ("memeriksa", "checking"),
    "stage_locate": ("menentukan lokasi", "locating"),
    "stage_write": ("menyimpan", "writing"),
    "imported": ("Selesai: {accepted} disimpan, {rejected} ditolak, {duplicates} sudah ada, {conflicts} bentrok.",
                 ("Done: {accepted} stored, {rejected} rejected, {duplicates} already stored, {conflicts} "
                 "conflicts.")),
    "imported_already": (("Berkas ini sudah diimpor (tidak diimpor dua kali). Untuk data lain atau baris yang "
                         "sudah diperbaiki, unggah berkas baru."),
                         ("This file has been imported (it is not imported twice). For other data or the fixed "
                         "rows, upload a new file.")),
    "nothing_to_import": ("Tidak ada baris yang bisa diimpor.", "There is no row to import."),
    "col_row": ("Baris", "Row"),
    "col_target": ("Isian", "Field"),
    "col_source": ("Kolom di berkas", "Column in the file"),
    "col_field": ("Kolom", "Column"),
    "col_reason": ("Alasan", "Reason"),
    # Situs
    "situs_title": ("Situs", "Sites"),
    "situs_intro": (("Daftar kawasan rawan narkoba yang menjadi sasaran. Situs bertanda 'perkiraan' masih di "
                    "titik wakil kelurahannya sampai lokasi sebenarnya diatur."),
                    ("The drug-prone places that interventions target. Sites marked 'approximate' sit at their "
                    "kelurahan's representative point until their real place is set.")),
    "site_select": ("Pilih situs untuk diubah", "Choose a site to edit"),
    "site_new": ("+ situs baru", "+ new site"),
    "site_id": ("Kode situs (huruf kecil, angka, '-')", "Site id (lower-case letters, digits, '-')"),
    "site_name": ("Nama", "Name"),
    "site_aliases": ("Nama lain (satu per baris)", "Also known as (one per line)"),
    "site_ikrn": ("Kategori IKRN", "IKRN category"),
    "site_sources": ("Sumber (satu per baris)", "Sources (one per line)"),
    "site_geom_mode": ("Lokasi sebenarnya", "Real place"),
    "geom_keep": ("tetap", "keep"),
    "geom_point": ("titik", "point"),
    "geom_polygon": ("batas (poligon)", "outline (polygon)"),
    "geom_point_hint": ("Ketuk peta untuk menaruh titik situs.", "Tap the map to place the site."),
    "geom_polygon_hint": ("Ketuk peta untuk menambah sudut batas satu per satu (minimal 3).",
                          "Tap the map to add the outline's corners one by one (at least 3)."),
    "geom_vertices": ("{n} sudut", "{n} corners"),
    "geom_undo": ("Hapus sudut terakhir", "Remove the last corner"),
    "geom_clear": ("Mulai ulang", "Start again"),
    "geom_none": ("Belum ada lokasi baru.", "No new place yet."),
    "geom_current": ("Lokasi tersimpan: {kind}{approx}", "Stored place: {kind}{approx}"),
    "kind_point": ("titik", "point"),
    "kind_polygon": ("poligon", "polygon"),
    "approx_suffix": (" (perkiraan)", " (approximate)"),
    "site_save": ("Simpan situs", "Save the site"),
    "site_saved": ("Situs tersimpan ({outcome}).", "Site saved ({outcome})."),
    "outcome_created": ("baru", "created"),
    "outcome_updated": ("diubah", "updated"),
    "outcome_unchanged": ("tidak berubah", "unchanged"),
    "site_history": ("Riwayat perubahan", "Change history"),
    "site_readonly": ("Hanya pimpinan dan administrator yang dapat mengubah daftar situs.",
                      "Only managers and administrators can change the site registry."),
    "col_approximate": ("Perkiraan", "Approximate"),
    "col_aliases": ("Nama lain", "Also known as"),
    "col_who": ("Oleh", "By"),
    "col_when": ("Waktu (WIB)", "When (WIB)"),
    "col_action": ("Tindakan", "Action"),
    # Ekspor
    "ekspor_title": ("Ekspor", "Export"),
    "ekspor_filters": ("Ekspor memakai filter yang sama dengan Peta cakupan.",
                       "Exports use the same filters as the coverage map."),
    "html_title": ("Peta HTML yang bisa dibagikan", "Shareable HTML map"),
    "html_help": ("Satu berkas yang terbuka di mana saja tanpa internet.",
                  "One file that opens anywhere, without internet."),
    "public": ("Versi publik (lokasi digeneralisasi ke kelurahan, tanpa teks bebas)",
               "Public version (locations generalised to the kelurahan, no free text)"),
    "public_denied": ("Ekspor publik hanya untuk pimpinan dan administrator.",
                      "Public exports are for managers and administrators only."),
    "html_download": ("Unduh peta HTML", "Download the HTML map"),
    "data_title": ("Data intervensi", "Intervention data"),
    "data_download": ("Unduh {fmt}", "Download {fmt}"),
    "hxl": ("Tambahkan baris tagar HXL (khusus CSV)", "Add the HXL hashtag row (CSV only)"),
    "briefing_title": ("Paket briefing", "Briefing pack"),
    "briefing_help": (("Gambar peta untuk aplikasi obrolan (PNG, lebar 1080 px), buku peta PDF (sampul provinsi, "
                       "satu halaman per kota dan per situs sasaran) dan GeoPackage yang langsung berwarna di QGIS."),
                      ("A map image for chat apps (PNG, 1080 px wide), a PDF map book (province cover, one page "
                       "per kota and per target site) and a GeoPackage that opens in QGIS already mapped.")),
    "png_download": ("Unduh gambar peta (PNG)", "Download the map image (PNG)"),
    "pdf_download": ("Unduh buku peta (PDF)", "Download the map book (PDF)"),
    "styled_gpkg_download": ("Unduh GeoPackage bergaya QGIS", "Download the QGIS-styled GeoPackage"),
    # Administrasi
    "admin_title": ("Administrasi", "Administration"),
    "audit_title": ("Log audit", "Audit log"),
    "audit_entity": ("Jenis data", "Kind of data"),
    "audit_all": ("semua", "all"),
    "audit_intervention": ("intervensi", "interventions"),
    "audit_site": ("situs", "sites"),
    "audit_count": ("{n} entri (terbaru di atas).", "{n} entries (newest first)."),
    "audit_download": ("Unduh log audit (CSV)", "Download the audit log (CSV)"),
    "restore_title": ("Pulihkan catatan yang dihapus", "Restore deleted records"),
    "restore_none": ("Tidak ada catatan yang dihapus.", "No deleted records."),
    "restore_pick": ("Catatan yang dihapus", "Deleted record"),
    "restore_do": ("Pulihkan", "Restore"),
    "restored": ("Catatan dipulihkan.", "Record restored."),
    # Administrasi: the taxonomy
    "audit_taxonomy": ("taksonomi", "taxonomy"),
    "tax_title": ("Taksonomi", "Taxonomy"),
    "tax_help": (("Jenis intervensi, aktor pentahelix dan kategori IKRN yang ditawarkan di formulir. Kunci "
                 "disimpan di setiap catatan: kunci yang sudah dipakai tidak bisa dihapus atau diganti, hanya "
                 "labelnya."),
                 ("The intervention types, penta-helix actors and IKRN categories offered in forms. Keys are "
                 "stored with every record: a key in use cannot be removed or renamed, only its labels.")),
    "tax_file": ("Berkas: {path} (tahun {year})", "File: {path} (year {year})"),
    "tax_group": ("Kelompok", "Group"),
    "tax_group_types": ("Jenis intervensi", "Intervention types"),
    "tax_group_actors": ("Aktor pentahelix", "Penta-helix actors"),
    "tax_group_ikrn": ("Kategori IKRN", "IKRN categories"),
    "tax_key": ("Kunci", "Key"),
    "tax_label_id": ("Label (Bahasa Indonesia)", "Label (Bahasa Indonesia)"),
    "tax_label_en": ("Label (English)", "Label (English)"),
    "tax_active": ("Ditawarkan di formulir", "Offered in forms"),
    "tax_yes": ("ya", "yes"),
    "tax_no": ("tidak", "no"),
    "tax_term": ("Entri", "Entry"),
    "tax_new": ("+ entri baru", "+ new entry"),
    "tax_key_help": ("Huruf kecil, angka dan garis bawah, mis. tes_urine. Tidak bisa diubah kemudian.",
                     "Lowercase letters, digits and underscores, e.g. tes_urine. It cannot be changed later."),
    "tax_save": ("Simpan taksonomi", "Save the taxonomy"),
    "tax_added": ("Entri {term} ditambahkan.", "Entry {term} added."),
    "tax_updated": ("Entri {term} diperbarui.", "Entry {term} updated."),
    "tax_replace": ("Ganti seluruh berkas taksonomi (TOML)", "Replace the whole taxonomy file (TOML)"),
    "tax_replace_text": ("Isi berkas", "File contents"),
    "tax_replace_do": ("Periksa dan ganti", "Check and replace"),
    "tax_replaced": ("Taksonomi diganti.", "Taxonomy replaced."),
    "tax_download": ("Unduh berkas taksonomi", "Download the taxonomy file"),
}

# -- lapangan.*: the field devices page (app_pages/lapangan.py) -----------------------------------------
_LAPANGAN: dict[str, tuple[str, str]] = {
    "title": ("Perangkat lapangan", "Field devices"),
    "capture": ("Halaman catat luring", "Offline capture page"),
    "capture_help": (("Buka di ponsel selagi ada sinyal, lalu pasang ke layar utama: sesudahnya mencatat tanpa "
                     "koneksi, dan entri dikirim sendiri saat sinyal kembali."),
                     ("Open it on the phone while there is signal, then add it to the home screen: after that "
                     "it records with no connection and sends by itself when the signal returns.")),
    "make_link": ("Buat tautan masuk (berlaku {d} hari)", "Make a sign-in link (valid {d} days)"),
    "open": ("Buka halaman catat luring", "Open the offline capture page"),
    "link_note": ("Tautan ini berisi token pribadi Anda: jangan dibagikan.",
                  "This link holds your personal token: do not share it."),
    "odk": ("ODK Collect / KoboCollect", "ODK Collect / KoboCollect"),
    "odk_help": (("Alamat server di ODK Collect: {url} (pengguna dan kata sandi akun geo_p4gn). Atau pindai "
                 "kode QR ini di Collect: Pengaturan proyek > Pindai QR. Pada alamat http:// (tanpa HTTPS) "
                 "Collect tidak mengirim kata sandi akun: gunakan kode QR dengan token."),
                 ("Server URL in ODK Collect: {url} (the geo_p4gn account's user and password). Or scan this "
                 "QR code in Collect: Project settings > Scan QR. On an http:// address (no HTTPS) Collect "
                 "does not send an account password: use the QR code with a token.")),
    "for_user": ("Untuk pengguna", "For user"),
    "with_token": ("Sertakan token baru sebagai kata sandi", "Include a new token as the password"),
    "show_qr": ("Tampilkan kode QR", "Show the QR code"),
    "qr_note": ("Kode ini berisi token: tunjukkan hanya kepada penggunanya, lalu tutup.",
                "This code holds a token: show it to its user only, then close it."),
    "xlsform": ("Unduh XLSForm (KoboToolbox / ODK Central)", "Download the XLSForm (KoboToolbox / ODK Central)"),
    "tokens": ("Token aktif", "Active tokens"),
    "revoke": ("Cabut token", "Revoke token"),
    "revoke_user": ("Cabut semua token pengguna ini", "Revoke all of this user's tokens"),
    "revoked": ("{n} token dicabut", "{n} token(s) revoked"),
    "none": ("Tidak ada token aktif.", "No active tokens."),
    "col_token": ("Token", "Token"),
    "col_user": ("Pengguna", "User"),
    "col_issued": ("Dibuat (WIB)", "Issued (WIB)"),
    "col_expires": ("Berlaku sampai (WIB)", "Valid until (WIB)"),
    "col_by": ("Dibuat oleh", "Issued by"),
    "col_label": ("Keterangan", "Label"),
}

# -- image.*: the PNG map (geo_p4gn.render.image) ---------------------------------------------------
_IMAGE: dict[str, tuple[str, str]] = {
    'title': ('Cakupan intervensi P4GN, DKI Jakarta', 'P4GN intervention coverage, DKI Jakarta'),
    'period': ('Periode', 'Period'),
    'filters': ('Filter', 'Filters'),
    'made': ('Dibuat', 'Made'),
    'source': ('Sumber', 'Source'),
    'boundaries': ('batas wilayah', 'boundaries'),
    'records': ('data intervensi geo_p4gn (agregat)', 'geo_p4gn intervention data (aggregated)'),
    'north': ('U', 'N'),
    'sites': ('Situs sasaran', 'Target sites'),
    'sites_legend': ('Situs: kelengkapan jenis', 'Sites: type completeness'),
    'level_kelurahan': ('per kelurahan', 'by kelurahan'),
    'level_kecamatan': ('per kecamatan', 'by kecamatan'),
    'level_kota': ('per kota', 'by kota'),
    'public': ('Versi publik: lokasi situs digeneralisasi ke kelurahan.', 'Public version: site locations generalised to the kelurahan.'),
    'internal': ('Versi internal: jangan disebarkan ke publik.', 'Internal version: do not publish.'),
    'no_period': ('-', '-'),
}

# -- report.*: the PDF map book (geo_p4gn.render.report) --------------------------------------------
_REPORT: dict[str, tuple[str, str]] = {
    'title': ('Buku peta cakupan intervensi P4GN', 'P4GN intervention coverage map book'),
    'subtitle': ('DKI Jakarta', 'DKI Jakarta'),
    'period': ('Periode', 'Period'),
    'filters': ('Filter', 'Filters'),
    'made': ('Dibuat', 'Made'),
    'page': ('Halaman {n} dari {total}', 'Page {n} of {total}'),
    'contents': ('Daftar isi', 'Contents'),
    'cover': ('Ringkasan provinsi', 'Province summary'),
    'kota_part': ('Kota dan kabupaten', 'Kota and kabupaten'),
    'site_part': ('Situs sasaran', 'Target sites'),
    'summary': ('Ringkasan provinsi', 'Province summary'),
    'targets_reached': ('Situs sasaran dijangkau', 'Target sites reached'),
    'targets_covered': ('Situs sasaran tercakup (semua jenis)', 'Target sites covered (every type)'),
    'interventions': ('Intervensi', 'Interventions'),
    'participants': ('Peserta (dilaporkan)', 'Participants (reported)'),
    'organisations': ('Organisasi', 'Organisations'),
    'by_type': ('Intervensi per jenis', 'Interventions by type'),
    'by_actor': ('Intervensi per aktor pentahelix', 'Interventions by penta-helix actor'),
    'bahaya': ('Bagian upaya di kelurahan {ikrn}', 'Share of effort in {ikrn} kelurahan'),
    'bahaya_text': ('{share} intervensi terjadi di kelurahan {ikrn}, yang memuat {targets} situs sasaran (rasio {ratio}).', '{share} of interventions happened in {ikrn} kelurahan, which hold {targets} of the target sites (ratio {ratio}).'),
    'gaps': ('Daftar kesenjangan (prioritas)', 'Gap list (priority)'),
    'no_gaps': ('Tidak ada kesenjangan.', 'No gaps.'),
    'matrix': ('Jenis intervensi x aktor (jumlah intervensi)', 'Intervention type x actor (number of interventions)'),
    'total': ('Total', 'Total'),
    'rank': ('No', 'No'),
    'place': ('Tempat', 'Place'),
    'gap': ('Kesenjangan', 'Gap'),
    'last': ('Terakhir', 'Last'),
    'level': ('Tingkat', 'Level'),
    'gap_not_reached': ('belum dijangkau', 'not reached'),
    'gap_missing_types': ('jenis belum lengkap', 'types missing'),
    'gap_missing_actors': ('aktor belum lengkap', 'actors missing'),
    'more': ('+{n} lainnya', '+{n} more'),
    'kelurahan': ('Kelurahan', 'Kelurahan'),
    'kecamatan': ('Kecamatan', 'Kecamatan'),
    'kota': ('Kota/Kabupaten', 'Kota/Kabupaten'),
    'site': ('Situs', 'Site'),
    'ikrn': ('IKRN', 'IKRN'),
    'location': ('Lokasi', 'Location'),
    'approximate': ('perkiraan (titik kelurahan)', 'approximate (kelurahan point)'),
    'generalised': ('digeneralisasi ke kelurahan (versi publik)', 'generalised to the kelurahan (public version)'),
    'exact': ('titik situs', 'site point'),
    'timeline': ('Intervensi per bulan', 'Interventions per month'),
    'last_activity': ('Kegiatan terakhir', 'Last activity'),
    'days_since': ('{n} hari yang lalu', '{n} days ago'),
    'never': ('belum pernah', 'never'),
    'missing_types': ('Jenis belum ada', 'Types not yet done'),
    'missing_actors': ('Aktor belum terlibat', 'Actors not yet involved'),
    'none': ('-', '-'),
    'all_done': ('lengkap', 'complete'),
    'types_done': ('Jenis', 'Types'),
    'actors_done': ('Aktor', 'Actors'),
    'kota_summary': ('{kel} kelurahan, {n} intervensi, situs sasaran dijangkau {reached}, tercakup {covered}.', '{kel} kelurahan, {n} interventions, target sites reached {reached}, covered {covered}.'),
    'no_sites': ('Tidak ada situs sasaran dalam filter ini.', 'No target sites within these filters.'),
    'public': ('Versi publik: lokasi situs digeneralisasi ke kelurahan; teks bebas tidak disertakan.', 'Public version: site locations generalised to the kelurahan; free text left out.'),
    'internal': ('Versi internal: memuat lokasi situs. Jangan disebarkan ke publik.', 'Internal version: holds site locations. Do not publish.'),
    'level_site': ('situs', 'site'),
    'level_kelurahan': ('kelurahan', 'kelurahan'),
    'level_kecamatan': ('kecamatan', 'kecamatan'),
    'level_kota': ('kota', 'kota'),
    'level_province': ('provinsi', 'province'),
    'no_data': ('tidak ada data', 'no data'),
}

# -- map.*: geo_p4gn.render.maps -------------------------------------------------------------------------
_MAP: dict[str, tuple[str, str]] = {
    "sites": ("Situs", "Sites"),
    "kelurahan": ("Kelurahan", "Kelurahan (urban village)"),
    "kecamatan": ("Kecamatan", "Kecamatan (district)"),
    "kota": ("Kota/Kabupaten", "Kota (city)"),
    "completeness": ("Kelengkapan jenis intervensi", "Intervention type completeness"),
    "sites_completeness": ("Situs: kelengkapan jenis", "Sites: type completeness"),
    "areas_and_sites": ("Wilayah dan situs", "Areas and sites"),
    "zero_sites": ("0% (situs sasaran belum dijangkau)", "0% (target site not reached)"),
    "scheme_quantiles": ("Kelas: kuantil (mapclassify)", "Classes: quantiles (mapclassify)"),
    "scheme_equal": ("Kelas: interval sama 20% (mapclassify)", "Classes: equal 20% steps (mapclassify)"),
    "scheme_fixed": ("Kelas tetap: 0, 1/3, 2/3, 100% (mapclassify)", "Fixed classes: 0, 1/3, 2/3, 100% (mapclassify)"),
    "legend_toggle": ("Tampilkan atau sembunyikan legenda", "Show or hide the legend"),
    "change_both": ("dijangkau di kedua periode", "reached in both periods"),
    "change_new": ("baru dijangkau", "newly reached"),
    "change_lost": ("tidak lagi dijangkau", "no longer reached"),
    "change_neither": ("tidak dijangkau di keduanya", "reached in neither"),
    "change_sites": ("Situs sasaran", "Target sites"),
    "change_note": ("Dijangkau: ada intervensi dalam periode", "Reached: an intervention in the period"),
    "no_data": ("tidak ada data", "no data"),
    "none": ("belum ada", "none yet"),
    "interventions": ("intervensi", "interventions"),
}

# -- metric.*: the choropleth metrics (geo_p4gn.render.maps.METRICS) ------------------------------------
_METRIC: dict[str, tuple[str, str]] = {
    "interventions": ("Jumlah intervensi", "Interventions"),
    "type_completeness": ("Kelengkapan jenis intervensi", "Intervention type completeness"),
    "actor_completeness": ("Kelengkapan aktor pentahelix", "Penta-helix actor completeness"),
    "sites_reached": ("Situs sasaran yang dijangkau", "Target sites reached"),
}

# -- export.*: the shareable HTML map (geo_p4gn.render.html) ---------------------------------------------
_EXPORT: dict[str, tuple[str, str]] = {
    "title": ("Peta cakupan intervensi P4GN, DKI Jakarta", "P4GN intervention coverage map, DKI Jakarta"),
    "period": ("Periode", "Period"),
    "made": ("Dibuat", "Made"),
    "filters": ("Filter", "Filters"),
    "no_filter": ("tanpa filter", "no filter"),
    "public_note": ("Versi publik: lokasi situs digeneralisasi ke kelurahan; teks bebas tidak disertakan.",
                    "Public version: site locations are generalised to the kelurahan; free text is left out."),
    "internal_note": ("Versi internal: memuat lokasi situs dan nama organisasi. Jangan disebarkan ke publik.",
                      "Internal version: holds site locations and organisation names. Do not publish."),
    "records_note": ("Dihitung dari {n} catatan intervensi (diagregasi; tidak ada catatan satu per satu).",
                     "Computed from {n} intervention records (aggregated; no record is included one by one)."),
    "site_table": ("Ringkasan per situs", "Summary per site"),
    "matrix": ("Matriks jenis intervensi x aktor (jumlah intervensi)",
               "Intervention type x actor matrix (number of interventions)"),
    "sources": ("Sumber data dan lisensi", "Data sources and licences"),
    "site": ("Situs", "Site"),
    "kelurahan": ("Kelurahan", "Kelurahan"),
    "ikrn": ("IKRN", "IKRN"),
    "types": ("Jenis", "Types"),
    "actors": ("Aktor", "Actors"),
    "interventions": ("Intervensi", "Interventions"),
    "last": ("Terakhir", "Last"),
    "organisations": ("Organisasi", "Organisations"),
    "aliases": ("Nama lain", "Also known as"),
    "missing_types": ("Jenis belum ada", "Types not yet done"),
    "missing_actors": ("Aktor belum ada", "Actors not yet involved"),
    "approximate": ("Lokasi", "Location"),
    "approximate_yes": ("perkiraan", "approximate"),
    "sites_reached": ("Situs sasaran dijangkau", "Target sites reached"),
    "total": ("Total", "Total"),
    "no_sites": ("Tidak ada situs sasaran.", "No target sites."),
    "more": ("+{n} lainnya", "+{n} more"),
    "type_col": ("Jenis intervensi", "Intervention type"),
    "boundaries": ("Batas wilayah", "Boundaries"),
    "codes": ("kode wilayah Kemendagri", "Kemendagri area codes"),
    "site_sources": ("Sumber situs", "Site sources"),
    "records": ("Data intervensi", "Intervention data"),
    "records_src": ("laporan mitra P4GN di penyimpanan geo_p4gn", "P4GN partners' reports in the geo_p4gn store"),
    "taxonomy": ("Jenis intervensi dan aktor", "Intervention types and actors"),
    "taxonomy_src": ("taksonomi P4GN {year} (BNNP DKI Jakarta)", "P4GN taxonomy {year} (BNNP DKI Jakarta)"),
    "software": ("Peta", "Map"),
    "sites_in": ("{n} situs", "{n} sites"),
    "dates": ("sampai", "to"),
    "none": ("-", "-"),
    "f_types": ("Jenis", "Types"),
    "f_actors": ("Aktor", "Actors"),
    "f_kota": ("Kota", "Kota"),
    "f_kecamatan": ("Kecamatan", "Kecamatan"),
    "f_kelurahan": ("Kelurahan", "Kelurahan"),
    "f_sites": ("Situs", "Sites"),
    "f_ikrn": ("IKRN", "IKRN"),
}

# -- reject.*: the importer's reject reasons -------------------------------------------------------------
# The importer words each reason in English as it finds it; geo_p4gn.importers.reasons recognises it and
# gives its Bahasa Indonesia here (``"reject.<code>"``), the values as placeholders. The English text is
# the importer's own wording, repeated so that every key has both languages.
_REJECT: dict[str, tuple[str, str]] = {
    "row": ("baris {n}", "row {n}"),
    "feature": ("fitur {n}", "feature {n}"),
    "vertex": ("titik sudut {n}", "vertex {n}"),
    "not_a_day": ("{value} bukan tanggal yang ada di kalender ({why})", "{value} is not a real calendar day ({why})"),
    "not_a_date": ("{value} bukan tanggal (tulis YYYY-MM-DD atau DD/MM/YYYY)",
                   "{value} is not a date (use YYYY-MM-DD or DD/MM/YYYY)"),
    "not_finite": ("{value} bukan angka yang wajar", "{value} is not a finite number"),
    "not_a_number": ("{value} bukan angka", "{value} is not a number"),
    "not_whole": ("{value} bukan bilangan bulat >= 0", "{value} is not a whole number >= 0"),
    "too_long": ("{n} karakter, melebihi batas {limit}", "{n} characters, more than the limit of {limit}"),
    "longer_than": ("lebih dari {n} karakter", "longer than {n} characters"),
    "nik": ("berisi angka 16 digit seperti NIK; identitas pribadi tidak boleh dicatat",
            "holds a 16-digit number shaped like a NIK; personal identifiers must not be recorded"),
    "phone": ("berisi sesuatu seperti nomor telepon; kontak pribadi tidak boleh dicatat",
              "holds something shaped like a phone number; personal contacts must not be recorded"),
    "no_location": ("lokasi wajib diisi (lintang dan bujur, atau geometri)",
                    "a location is required (latitude and longitude, or a geometry)"),
    "not_wkt": ("bukan WKT yang bisa dibaca ({why})", "not readable WKT ({why})"),
    "not_geometry": ("{kind} bukan geometri", "{kind} is not a geometry"),
    "not_point_polygon": ("{kind} (kosong={empty}) bukan titik atau poligon",
                          "a {kind} (empty={empty}) is not a point or a polygon"),
    "not_finite_coords": ("koordinatnya bukan angka yang wajar", "coordinates are not finite"),
    "invalid_geometry": ("{kind} tidak sah ({why}); tidak diperbaiki otomatis",
                         "invalid {kind} ({why}); it is not repaired"),
    "not_uuid": ("{value} bukan UUID", "{value} is not a UUID"),
    "end_before": ("{end} lebih awal dari tanggal mulai {date}", "{end} is before the date {date}"),
    "swapped": (("lintang {lat} dan bujur {lon} tampaknya tertukar (Jakarta ada di sekitar lintang -6,2, bujur "
                 "106,8); tukar keduanya"),
                ("latitude {lat} and longitude {lon} look swapped (Jakarta is near latitude -6.2, longitude "
                 "106.8); exchange them")),
    "bad_coords": ("koordinat ({lat}, {lon}) bukan angka dalam rentang yang sah",
                   "coordinates ({lat}, {lon}) are not finite numbers in range"),
    "outside": (("lintang {lat}, bujur {lon} berada di luar DKI Jakarta (lebih dari {m} m dari setiap kelurahan, "
                 "Kepulauan Seribu termasuk)"),
                ("latitude {lat}, longitude {lon} is outside DKI Jakarta (more than {m} m from every kelurahan, "
                 "Kepulauan Seribu included)")),
    "unknown_type": ("{value} bukan jenis intervensi yang dikenal (kunci yang dikenal: {keys})",
                     "{value} is not a known type (known keys: {keys})"),
    "unknown_actor": ("{value} bukan aktor yang dikenal (kunci yang dikenal: {keys})",
                      "{value} is not a known actor (known keys: {keys})"),
    "several_sites": ("{value} cocok dengan beberapa situs ({ids}); tulis id situsnya",
                      "{value} names several sites ({ids}); give the site id"),
    "unknown_site": ("{value} bukan situs yang dikenal (tulis id, nama, atau alias situs dari daftar situs)",
                     "{value} is not a known site (give a site id, name or alias from the site registry)"),
    "not_geopoint": ("{value} bukan geopoint (lintang bujur ketinggian akurasi)",
                     "{value} is not a geopoint (latitude longitude altitude accuracy)"),
    "not_geojson_geometry": ("bukan geometri GeoJSON yang bisa dibaca ({why})",
                             "is not a readable GeoJSON geometry ({why})"),
    "not_feature": ("bukan Feature GeoJSON", "is not a GeoJSON Feature"),
    "too_deep": ("bersarang terlalu dalam", "is nested too deeply"),
    "too_many_cells": ("berisi {cells} sel, padahal baris judul punya {columns} kolom",
                       "has {cells} cells but the header has {columns} columns"),
    "stored_other": (("{id} sudah tersimpan dengan isi lain; tidak ditimpa (ubah data yang tersimpan, atau beri "
                      "baris ini id baru)"),
                     ("{id} is already stored with different content; not overwritten (edit the stored record, "
                      "or give this row a new id)")),
    "stored_other_deleted": (("{id} sudah tersimpan (terhapus) dengan isi lain; tidak ditimpa (ubah data yang "
                              "tersimpan, atau beri baris ini id baru)"),
                             ("{id} is already stored (deleted) with different content; not overwritten (edit the "
                              "stored record, or give this row a new id)")),
    "used_in_file": ("{id} sudah dipakai oleh {where} dengan isi lain; tidak diimpor",
                     "{id} is already used by {where} with different content; not imported"),
    # the rejects file's own columns
    "col_row": ("_baris", "_row"),
    "col_field": ("_kolom", "_field"),
    "col_reason": ("_alasan", "_reason"),
}

# -- streamlit.*: Streamlit's own texts, as its frontend writes them in English (the second text) -------------
# The app's page swaps them for the first text in Bahasa Indonesia (geo_p4gn_app.page);
# "Add: " and the page-not-found message are prefixes.
_STREAMLIT: dict[str, tuple[str, str]] = {
    "choose_option": ("Pilih...", "Choose an option"),
    "choose_options": ("Pilih...", "Choose options"),
    "select_all": ("Pilih semua", "Select all"),
    "add": ("Tambah: ", "Add: "),
    "no_results": ("Tidak ada hasil", "No results"),
    "page_not_found": ("Halaman tidak ditemukan", "Page not found"),
    "page_not_found_text": ("Halaman yang diminta tidak ada. Halaman utama dibuka.",
                            "You have requested page"),
    "clear_all": ("Hapus semua", "Clear all"),
    "running": ("Memproses...", "Running..."),
    "stop": ("Berhenti", "Stop"),
}


def _merge(sections: Mapping[str, Mapping[str, tuple[str, ...]]]) -> dict[str, tuple[str, ...]]:
    """One flat catalogue from ``{namespace: {key: texts}}`` ("" for bare keys); a key claimed twice raises."""
    out: dict[str, tuple[str, ...]] = {}
    for namespace, entries in sections.items():
        for key, texts in entries.items():
            full = f"{namespace}.{key}" if namespace else key
            if full in out:
                msg = f"translation key {full!r} is defined twice"
                raise ValueError(msg)
            out[full] = texts
    return out


# -- review.*: the duplicates review page (app_pages/duplikat.py) ------------------------------------------
_REVIEW: dict[str, tuple[str, str]] = {
    "page": ("Tinjau duplikat", "Review duplicates"),
    "title": ("Kemungkinan laporan ganda", "Possible duplicate reports"),
    "help": (("Pasangan laporan dengan jenis sama, di situs atau kelurahan yang sama, pada hari yang berdekatan, "
              "dari organisasi bernama mirip. Tandai satu sebagai duplikat dari yang lain (duplikat tidak dihitung "
              "dalam angka cakupan mana pun), atau simpan keduanya. Setiap keputusan tercatat di log audit dan bisa "
              "dibatalkan."),
             ("Pairs of reports of the same type, at the same site or kelurahan, on close days, from organisations "
              "with similar names. Mark one as a duplicate of the other (a duplicate counts in no coverage figure), "
              "or keep both. Every decision is in the audit log and can be undone.")),
    "period": ("Periode", "Period"),
    "count": ("{n} pasangan, {pending} belum ditinjau", "{n} pairs, {pending} not reviewed yet"),
    "none": ("Tidak ada kemungkinan duplikat pada periode ini.", "No possible duplicates in this period."),
    "pair": ("{place} · {type} · {days} hari terpisah · kemiripan nama {similarity}",
             "{place} · {type} · {days} days apart · name similarity {similarity}"),
    "record": ("{label}: {date} · {organisation} · {id}", "{label}: {date} · {organisation} · {id}"),
    "pending": ("Belum ditinjau", "Not reviewed"),
    "distinct": ("Keduanya disimpan (dua kegiatan)", "Both kept (two events)"),
    "is_duplicate": ("Duplikat: {record} (tidak dihitung)", "Duplicate: {record} (not counted)"),
    "mark_a": ("A duplikat dari B", "A is a duplicate of B"),
    "mark_b": ("B duplikat dari A", "B is a duplicate of A"),
    "keep": ("Simpan keduanya", "Keep both"),
    "unmark": ("Batalkan keputusan", "Undo the decision"),
    "marked": ("Ditandai sebagai duplikat; tidak lagi dihitung dalam cakupan.",
               "Marked as a duplicate; no longer counted in coverage."),
    "kept": ("Keduanya disimpan.", "Both kept."),
    "unmarked": ("Keputusan dibatalkan; angka cakupan kembali seperti semula.",
                 "Decision undone; the coverage figures are as before."),
    "decisions": ("Keputusan tersimpan", "Stored decisions"),
    "dup_of": ("Duplikat dari catatan lain (tidak dihitung)", "Duplicate of the other record (not counted)"),
    "col_record": ("Catatan", "Record"),
    "col_other": ("Catatan lain", "Other record"),
    "col_decision": ("Keputusan", "Decision"),
    "col_by": ("Oleh", "By"),
    "col_at": ("Waktu", "When"),
}


# -- ikrn.*: the IKRN history page (app_pages/ikrn.py) ------------------------------------------------------
_IKRN: dict[str, tuple[str, str]] = {
    "page": ("Riwayat IKRN", "IKRN history"),
    "title": ("Riwayat IKRN per kelurahan", "IKRN history per kelurahan"),
    "help": (("Kategori IKRN tahunan dari BNN (Bahaya, Waspada, Siaga, Aman) yang diimpor kantor ini. Kelurahan "
              "tanpa nilai untuk suatu tahun belum disurvei: tidak diketahui, bukan Aman. Untuk periode dalam satu "
              "tahun, filter IKRN dan porsi Bahaya memakai nilai tahun itu."),
             ("BNN's yearly IKRN categories (Bahaya, Waspada, Siaga, Aman) imported by this office. A kelurahan with "
              "no grade for a year was not surveyed: unknown, not Aman. For a period within one year, the IKRN "
              "filter and the Bahaya share use that year's grades.")),
    "none": ("Belum ada nilai IKRN yang diimpor (geo-p4gn ikrn import BERKAS).",
             "No IKRN grades imported yet (geo-p4gn ikrn import FILE)."),
    "kelurahan": ("Kelurahan", "Kelurahan"),
    "all": ("Semua kelurahan", "All kelurahan"),
    "before_after": ("Sebelum dan sesudah", "Before and after"),
    "year": ("Tahun Y", "Year Y"),
    "before_after_help": (("Kelurahan yang dinilai pada tahun Y dan Y+1: intervensi yang diterima pada tahun Y "
                           "dibandingkan perubahan kategori."),
                          ("Kelurahan graded in year Y and Y+1: interventions received in year Y against the change "
                           "of category.")),
    "before_after_none": ("Tidak ada kelurahan yang dinilai pada {year} dan {next}.",
                          "No kelurahan is graded in both {year} and {next}."),
    "basis_grades": ("IKRN: nilai tahun {year} ({n} kelurahan; tanpa nilai: tidak diketahui).",
                     "IKRN: the grades of {year} ({n} kelurahan; not graded: unknown)."),
    "basis_no_grades": ("IKRN: belum ada nilai untuk {year}; kategori situs sendiri yang dipakai.",
                        "IKRN: no grades imported for {year}; the sites' own categories are used."),
    "col_grade": ("IKRN {year}", "IKRN {year}"),
    "col_change": ("Perubahan", "Change"),
    "col_types_done": ("Jumlah jenis", "Types (count)"),
    "col_actors_done": ("Jumlah aktor", "Actors (count)"),
    "col_orgs": ("Organisasi", "Organisations"),
    "worse": ("memburuk", "worse"),
    "better": ("membaik", "better"),
    "same": ("tetap", "same"),
}

#: Every string: ``key -> (Bahasa Indonesia, English)``, in the order of :data:`LANGS`.
CATALOGUE: dict[str, tuple[str, ...]] = _merge(
    {"": _APP, "map": _MAP, "metric": _METRIC, "export": _EXPORT, "reject": _REJECT, "streamlit": _STREAMLIT,
     "lapangan": _LAPANGAN, "image": _IMAGE, "report": _REPORT, "review": _REVIEW,
     "ikrn": _IKRN})
#: The catalogue per language: ``STRINGS[lang][key]``.
STRINGS: dict[str, dict[str, str]] = {lang: {k: v[i] for k, v in CATALOGUE.items()} for i, lang in enumerate(LANGS)}


def t(key: str, lang: str = "id", **values) -> str:
    """The string ``key`` in ``lang`` (Bahasa Indonesia when unknown), with ``values`` filled in.

    An unknown key raises ``KeyError``. Without ``values`` the text is returned as it is written.
    """
    text = STRINGS["en" if lang == "en" else "id"][key]
    return text.format(**values) if values else text


def fields(text: str) -> set[str]:
    """The placeholder names of ``text``.

    >>> sorted(fields("{n} of {total}, {{literal}}"))
    ['n', 'total']
    """
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def problems(catalogue: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """What is wrong with ``catalogue`` (default :data:`CATALOGUE`): one line per fault, empty when sound.

    A key must have a non-empty text in every language of :data:`LANGS`, the same placeholders in each,
    and a known namespace (or none).

    >>> problems({"ok": ("Ya", "Yes"), "gone": ("Ada", ""), "n": ("{n} situs", "{count} sites")})
    ["gone: no 'en' text", "n: placeholders differ: id ['n'], en ['count']"]
    """
    out = []
    for key, texts in (CATALOGUE if catalogue is None else catalogue).items():
        if "." in key and key.split(".", 1)[0] not in NAMESPACES:
            out.append(f"{key}: unknown namespace")
        if len(texts) != len(LANGS):
            out.append(f"{key}: {len(texts)} texts for {len(LANGS)} languages")
            continue
        missing = [lang for lang, text in zip(LANGS, texts) if not isinstance(text, str) or not text.strip()]
        if missing:
            out.extend(f"{key}: no {lang!r} text" for lang in missing)
            continue
        names = {lang: fields(text) for lang, text in zip(LANGS, texts)}
        if len({frozenset(v) for v in names.values()}) > 1:
            shown = ", ".join(f"{lang} {sorted(v)}" for lang, v in names.items())
            out.append(f"{key}: placeholders differ: {shown}")
    return out
