// Files dragged onto the page: over the search box they are a picture to search with, anywhere
// else they are uploads (for those who may upload; for others the rest of the page refuses the
// drop). The overlay is pointer-transparent, so the drop lands on what is under it.

import { dragHasFiles } from './dom.js';

export function acceptDrops({ searchBox, onPicture, onFiles, canUpload }) {
  let depth = 0; // dragenter/dragleave fire for every child crossed
  const end = () => {
    depth = 0;
    document.body.classList.remove('dragging');
    searchBox.classList.remove('drop-target');
  };
  window.addEventListener('dragenter', (event) => {
    if (!dragHasFiles(event)) return;
    depth += 1;
    if (canUpload()) document.body.classList.add('dragging');
  });
  window.addEventListener('dragleave', (event) => {
    if (dragHasFiles(event) && --depth <= 0) end();
  });
  window.addEventListener('dragover', (event) => {
    if (!dragHasFiles(event)) return;
    event.preventDefault(); // even where refused ('none'): left alone, the browser would open the file
    const onSearch = searchBox.contains(event.target);
    event.dataTransfer.dropEffect = onSearch || canUpload() ? 'copy' : 'none';
    searchBox.classList.toggle('drop-target', onSearch);
  });
  window.addEventListener('drop', (event) => {
    if (!dragHasFiles(event)) return;
    event.preventDefault();
    end();
    if (searchBox.contains(event.target)) onPicture(event.dataTransfer.files[0]);
    else if (canUpload()) onFiles(event.dataTransfer.files);
  });
}
