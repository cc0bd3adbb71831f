// Files dragged onto the page: over the search box they are a picture to search with, anywhere
// else they are uploads. The overlay is pointer-transparent, so the drop lands on what is under it.

import { dragHasFiles } from './dom.js';

export function acceptDrops({ searchBox, onPicture, onFiles }) {
  let depth = 0; // dragenter/dragleave fire for every child crossed
  const end = () => {
    depth = 0;
    document.body.classList.remove('dragging');
    searchBox.classList.remove('drop-target');
  };
  window.addEventListener('dragenter', (event) => {
    if (!dragHasFiles(event)) return;
    depth += 1;
    document.body.classList.add('dragging');
  });
  window.addEventListener('dragleave', (event) => {
    if (dragHasFiles(event) && --depth <= 0) end();
  });
  window.addEventListener('dragover', (event) => {
    if (!dragHasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    searchBox.classList.toggle('drop-target', searchBox.contains(event.target));
  });
  window.addEventListener('drop', (event) => {
    if (!dragHasFiles(event)) return;
    event.preventDefault();
    end();
    if (searchBox.contains(event.target)) onPicture(event.dataTransfer.files[0]);
    else onFiles(event.dataTransfer.files);
  });
}
